/**
 * Pure decisions about a WebSocket handshake: is it well-formed, which subprotocol to answer, is the page's Origin
 * allowed. No sockets here; each function takes header values and returns a value.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { HttpReasonCode } from '../errors.js';

/** A handshake problem, with the reason code and an optional response header. */
export interface HandshakeProblem {
  readonly code: HttpReasonCode;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}

// RFC 7230 token characters (RFC 6455 §4.3 subprotocol values are tokens).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 6455 §4.1: base64 of 16 random bytes is 24 characters ending in '=='.
const KEY = /^[+/0-9A-Za-z]{22}==$/;

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Checks method, Upgrade, key and version as RFC 6455 §4.2.1 asks (and as `ws` would, so it never refuses itself). */
export function validateHandshake(
  method: string | undefined,
  headers: IncomingHttpHeaders,
): HandshakeProblem | undefined {
  if (method !== 'GET')
    return {
      code: 'METHOD_NOT_ALLOWED',
      message: 'A WebSocket handshake must be a GET request.',
      headers: { Allow: 'GET' },
    };
  // RFC 6455 §4.1: the handshake carries Host (Node's own Host check skips upgrades); Origin and Host checks need it.
  if (headers.host === undefined)
    return { code: 'BAD_HANDSHAKE', message: 'A WebSocket handshake needs a Host header.' };
  const upgrade = single(headers.upgrade);
  if (upgrade === undefined || upgrade.trim().toLowerCase() !== 'websocket') {
    return { code: 'BAD_HANDSHAKE', message: "Only 'Upgrade: websocket' is supported on this port." };
  }
  const key = single(headers['sec-websocket-key'])?.trim();
  if (key === undefined || !KEY.test(key))
    return { code: 'BAD_HANDSHAKE', message: 'Sec-WebSocket-Key is missing or is not 16 bytes in base64.' };
  const version = single(headers['sec-websocket-version'])?.trim();
  if (version !== '13' && version !== '8') {
    return {
      code: 'UNSUPPORTED_VERSION',
      message: 'Sec-WebSocket-Version must be 13 (8 is also accepted).',
      headers: { 'Sec-WebSocket-Version': '13' },
    };
  }
  return undefined;
}

/** Outcome of subprotocol negotiation: the protocol to answer (none if undefined), or a problem. */
export type SubprotocolChoice =
  { ok: true; protocol: 'binary' | 'base64' | undefined } | { ok: false; problem: HandshakeProblem };

/**
 * Chooses the subprotocol from every `Sec-WebSocket-Protocol` line, items trimmed (browsers join with ", "):
 * nothing offered → none (modern noVNC); `binary` anywhere → `binary` (websockify answers 400 to "base64, binary");
 * else `base64` anywhere → the legacy `base64` protocol (websockify before 0.9, websockify-other/c); only others → 400.
 */
export function chooseSubprotocol(lines: readonly string[] | undefined): SubprotocolChoice {
  const offered: string[] = [];
  for (const line of lines ?? []) {
    for (const item of line.split(',')) {
      const value = item.trim();
      if (value === '') continue;
      if (!TOKEN.test(value)) {
        return {
          ok: false,
          problem: { code: 'BAD_HANDSHAKE', message: 'Sec-WebSocket-Protocol holds a value that is not a token.' },
        };
      }
      if (offered.includes(value)) {
        return {
          ok: false,
          problem: { code: 'BAD_HANDSHAKE', message: `Sec-WebSocket-Protocol offers '${value}' twice.` },
        };
      }
      offered.push(value);
    }
  }
  if (offered.length === 0) return { ok: true, protocol: undefined };
  if (offered.includes('binary')) return { ok: true, protocol: 'binary' };
  if (offered.includes('base64')) return { ok: true, protocol: 'base64' };
  return {
    ok: false,
    problem: {
      code: 'SUBPROTOCOL_UNSUPPORTED',
      message: `None of the offered subprotocols (${offered.slice(0, 5).join(', ')}) is supported; offer 'binary', 'base64' or none.`,
    },
  };
}

/** Host name (lowercase, no brackets) and port of a `Host` header; port undefined when not written. */
export function parseHostHeader(host: string): { hostname: string; port: number | undefined } | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(host.trim());
  if (!m?.[1]) return undefined;
  return { hostname: m[1].replace(/^\[|\]$/g, '').toLowerCase(), port: m[2] === undefined ? undefined : Number(m[2]) };
}

/**
 * Whether a page with `origin` may open a WebSocket here. No Origin (not a browser) → yes. Same host and port as the
 * `Host` header → yes. Otherwise only if listed in `allow` (normalised origins) or `allow` holds `*`. Without this a
 * page on any site could reach a user's VNC server through a wsproxy on their machine (CSWSH, websockify#435).
 */
export function isOriginAllowed(
  origin: string | undefined,
  host: string | undefined,
  tls: boolean,
  allow: readonly string[],
): boolean {
  if (origin === undefined) return true;
  if (allow.includes('*')) return true;
  const o = origin.trim().toLowerCase();
  if (o === 'null') return allow.includes('null');
  let url: URL;
  try {
    url = new URL(o);
  } catch {
    return false;
  }
  if (allow.includes(url.origin)) return true;
  if (host === undefined) return false;
  const h = parseHostHeader(host);
  if (!h) return false;
  const originPort =
    url.port !== '' ? Number(url.port) : url.protocol === 'https:' || url.protocol === 'wss:' ? 443 : 80;
  const hostPort = h.port ?? (tls ? 443 : 80);
  return url.hostname.replace(/^\[|\]$/g, '') === h.hostname && originPort === hostPort;
}
