/**
 * `httpUpstream` URL`: one port for an application and its tunnel. Ordinary HTTP requests that wsproxy does not
 * answer itself are reverse-proxied to URL with `http-proxy-3` (the maintained, API-compatible successor of the design
 * card's `http-proxy`). WebSocket upgrades never come here: every upgrade belongs to the tunnel (server/routes.ts sends
 * 'upgrade' events to websocket/upgrade.ts only).
 *
 * What this module adds around the library, and why:
 * - Hop-by-hop headers (RFC 9110 §7.6.1) are removed both ways, including those named in `Connection`; the library
 *   copies most of them through.
 * - `X-Forwarded-For/-Proto/-Host/-Port` and `Forwarded` are *replaced*, not appended: wsproxy has no `trustedProxy`
 *   list, so a client's own copies would be forged facts. Client copies of certificate headers are dropped.
 * - The response is written here (`selfHandleResponse`), so no hop-by-hop header can leak back and the client's
 *   `Connection: close` is honoured.
 * - Every failure before the response head (refused, DNS, TLS, connect timeout, no answer in time) is one 502 through
 *   `reject()` with reason UPSTREAM_FAILED and the errno in the log; after the head, the client connection is cut.
 */
import { Agent as HttpAgent, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Socket } from 'node:net';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { createProxyServer, type ProxyServer } from 'http-proxy-3';
import { realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { errnoCode, TimeoutError } from '../errors.js';
import { applyFraming, upstreamFraming } from './framing.js';
import { clientResponseHeaders, upstreamRequestHeaders, type HeaderFilter } from './upstream-headers.js';
import type { PeerIdentity } from '../tls/peer.js';
import type { Logger } from '../log.js';
import { isIpLiteral } from '../net/address.js';
import { BUILTIN_WEB_ROOT, INFO_PATH, novncSegments } from './builtin.js';
import { reject } from './reject.js';
import { failConnection, guard } from '../boundary.js';
import { resolveStaticPath } from './static.js';
import { optionName } from '../config/options/index.js';

/** Settings of the upstream proxy. */
export interface UpstreamOptions {
  /** `http://` or `https://` URL, optionally with a path prefix (validated by config/addresses.ts). */
  readonly url: string;
  /** Deadline for the TCP (and TLS) connection to the upstream. */
  readonly connectTimeoutMs: number;
  /** Deadline for the upstream's response head, and the longest silence on the upstream socket afterwards. */
  readonly responseTimeoutMs: number;
  /**
   * Remove `Authorization` before forwarding: set when `webAuth` consumed it (the credential is wsproxy's, not the
   * application's). A function is asked per request, so a reload that turns `webAuth` on takes effect at once.
   */
  readonly stripAuthorization: boolean | (() => boolean);
  /**
   * `upstreamUnderscoreHeaders`: pass on header names that contain `_` (nginx's `underscores_in_headers`). Asked
   * per request (a live option). Protected names are dropped either way.
   */
  readonly underscoreHeaders?: boolean | (() => boolean);
}

/** What one forwarded request needs to know about its client connection. */
export interface ForwardFacts {
  readonly remoteAddress: string;
  readonly tls: boolean;
  readonly log: Logger;
  /** The TLS client certificate, read once from the socket (never from a header). */
  readonly peer?: PeerIdentity | undefined;
}

/** A reverse proxy to one upstream. */
export interface HttpUpstream {
  /** The upstream URL, for logs. */
  readonly url: string;
  /** Forwards one request; answers 502 itself when the upstream fails. Never throws. */
  forward(req: IncomingMessage, res: ServerResponse, facts: ForwardFacts): void;
  /** Closes idle upstream connections (shutdown). */
  close(): void;
}

/** Whether `segments` name a regular file (or a directory with index.html) inside `rootReal`, symlinks resolved. */
async function fileExists(rootReal: string, segments: readonly string[]): Promise<boolean> {
  try {
    let real = await realpath(join(rootReal, ...segments));
    if (real !== rootReal && !real.startsWith(rootReal + sep)) return false;
    let info = await stat(real);
    if (info.isDirectory()) {
      real = await realpath(join(real, 'index.html'));
      if (!real.startsWith(rootReal + sep)) return false;
      info = await stat(real);
    }
    return info.isFile();
  } catch {
    return false;
  }
}

/**
 * Whether wsproxy answers `path` itself when `httpUpstream` is set (everything else goes to the application):
 * - with `web` DIR`: a file that exists in DIR (a directory with an index.html counts), so noVNC and the app can share
 *   the port and the app gets every path DIR does not have;
 * - without `web`: `/wsproxy/…` (info.json), `/novnc/core/…` and `/novnc/vendor/…`, and the built-in files such as
 *   `/vnc.html`, `/index.html` and `/favicon.svg` — but not `/`, which is the application's front page.
 * Paths wsproxy would refuse as malformed or hidden (`/.well-known/…`) are the application's to judge.
 */
export async function ownsPath(path: string, webRootReal: string | undefined): Promise<boolean> {
  const mapped = resolveStaticPath(path);
  if (!mapped.ok) return false;
  if (webRootReal !== undefined) return fileExists(webRootReal, mapped.segments);
  if (path === INFO_PATH || mapped.segments[0] === 'wsproxy' || novncSegments(mapped.segments) !== undefined)
    return true;
  return mapped.segments.length > 0 && (await fileExists(BUILTIN_WEB_ROOT, mapped.segments));
}

/** Per-request state, found again from the library's events (which carry the incoming request). */
interface Pending {
  readonly res: ServerResponse;
  readonly log: Logger;
  readonly fields: Record<string, string>;
  readonly scheme: string;
  /** The body's framing header, as upstreamFraming chose it. */
  readonly framing: Readonly<Record<string, string>>;
  connectTimer?: NodeJS.Timeout;
}
type PendingRequests = WeakMap<IncomingMessage, Pending>;

/** Builds the reverse proxy. Nothing connects until the first request. */
export function createHttpUpstream(options: UpstreamOptions, log: Logger): HttpUpstream {
  const target = new URL(options.url);
  const secure = target.protocol === 'https:';
  const agent = upstreamAgent(target);
  const proxy = createProxyServer({
    target: options.url,
    agent,
    xfwd: false, // set by upstreamRequestHeaders (replaced, not appended)
    changeOrigin: false,
    prependPath: true,
    secure: true,
    ws: false,
    followRedirects: false,
    selfHandleResponse: true,
    proxyTimeout: options.responseTimeoutMs,
  });
  const pending: PendingRequests = new WeakMap();
  watchProxy(proxy, pending, log, { secure, connectTimeoutMs: options.connectTimeoutMs });
  return {
    url: options.url,
    forward(req: IncomingMessage, res: ServerResponse, facts: ForwardFacts): void {
      const p = startPending(req, res, facts, target.origin);
      pending.set(req, p);
      req.headers = upstreamRequestHeaders(
        req.headers,
        { remoteAddress: facts.remoteAddress, tls: facts.tls, localPort: req.socket.localPort, peer: facts.peer },
        headerFilter(options),
      );
      proxy.web(req, res, (err: Error) => {
        clearTimeout(p.connectTimer);
        failUpstream(res, err, p.log, p.fields);
      });
    },
    close(): void {
      agent.destroy();
    },
  };
}

/**
 * Keep-alive towards the upstream. For https, the certificate is checked against the configured host, never against
 * the client's Host header (Node would otherwise derive the server name from the Host header we pass through).
 */
function upstreamAgent(target: URL): HttpAgent | HttpsAgent {
  if (target.protocol !== 'https:') return new HttpAgent({ keepAlive: true });
  const host = target.hostname.replace(/^\[|\]$/g, '');
  return new HttpsAgent({
    keepAlive: true,
    ...(isIpLiteral(host) ? {} : { servername: host }),
    checkServerIdentity: (_name: string, cert: PeerCertificate) => checkServerIdentity(host, cert),
  });
}

const ask = (v: boolean | (() => boolean) | undefined): boolean => (typeof v === 'function' ? v() : v === true);

/** The live header settings, asked per request. */
function headerFilter(options: UpstreamOptions): HeaderFilter {
  return { stripAuthorization: ask(options.stripAuthorization), underscoreHeaders: ask(options.underscoreHeaders) };
}

/** The state of one forwarded request; its connect timer goes with the client's response. */
function startPending(req: IncomingMessage, res: ServerResponse, facts: ForwardFacts, origin: string): Pending {
  const p: Pending = {
    res,
    log: facts.log,
    fields: { method: req.method ?? '', path: (req.url ?? '/').split('?')[0] ?? '/', upstream: origin },
    scheme: facts.tls ? 'https' : 'http',
    framing: upstreamFraming(req.headers),
  };
  res.once('close', () => clearTimeout(p.connectTimer));
  // proxyRes.pipe(res) rethrows a response error that has no other listener; a vanished client is not a crash.
  res.on('error', (err: Error) =>
    p.log.debug('client response failed', { reason: 'UPSTREAM_CLIENT_GONE', error: errnoCode(err) ?? err.message }),
  );
  return p;
}

/** One upstream failure: 502 before the response head; after it, the connection is cut. */
function failUpstream(res: ServerResponse, err: Error, rlog: Logger, fields: Record<string, string>): void {
  const code = errnoCode(err) ?? err.message;
  if (res.headersSent || res.destroyed) {
    // Half a response cannot be turned into a 502: cut the connection so the client sees it failed.
    rlog.debug('http upstream failed mid-response', { reason: 'UPSTREAM_FAILED', ...fields, error: code });
    res.destroy();
    return;
  }
  reject(res, 'UPSTREAM_FAILED', { log: rlog, fields: { ...fields, detail: code } });
}

/** The library's events: the backstop error listener, framing restored, the connect deadline, the response. */
function watchProxy(
  proxy: ProxyServer,
  pending: PendingRequests,
  log: Logger,
  connect: { readonly secure: boolean; readonly connectTimeoutMs: number },
): void {
  // The error callback passed to web() handles each request's failures; this listener is the backstop so an 'error'
  // the library emits anywhere else can never be unhandled.
  proxy.on('error', (err: Error) => {
    log.warn('http upstream error', { reason: 'UPSTREAM_FAILED', error: errnoCode(err) ?? err.message });
  });
  // The library's deleteLength pass sets `Content-Length: 0` on a DELETE or OPTIONS without one and removes
  // Transfer-Encoding, so a chunked body would go out unframed (a smuggled request). Our framing is restored last.
  proxy.before('web', 'stream', (req: IncomingMessage) => {
    const p = pending.get(req);
    if (p) applyFraming(req.headers, p.framing);
  });
  // The library calls these listeners from its own request and response events: a throw there would escape to the
  // event loop, so each goes through the per-connection boundary (500 or a cut response, never the process).
  const failRequest = (err: unknown, req: IncomingMessage, res?: ServerResponse): void => {
    const p = pending.get(req);
    failConnection(res ?? p?.res, err, {
      log: p?.log ?? log,
      where: optionName('httpUpstream'),
      ...(p ? { fields: p.fields } : {}),
    });
  };
  proxy.on(
    'proxyReq',
    guard(
      (proxyReq: ClientRequest, req: IncomingMessage, _res: ServerResponse, _o: unknown, socket: Socket) =>
        startConnectDeadline(pending.get(req), proxyReq, socket, connect),
      (err, proxyReq, req, res) => {
        proxyReq.destroy();
        failRequest(err, req, res);
      },
    ),
  );
  proxy.on(
    'proxyRes',
    guard(
      (proxyRes: IncomingMessage, req: IncomingMessage) => relayResponse(pending.get(req), proxyRes),
      (err, proxyRes, req) => {
        proxyRes.destroy();
        failRequest(err, req);
      },
    ),
  );
}

/** A fresh socket may hang in connect (a black-holed address); a reused keep-alive socket is already open. */
function startConnectDeadline(
  p: Pending | undefined,
  proxyReq: ClientRequest,
  socket: Socket,
  connect: { readonly secure: boolean; readonly connectTimeoutMs: number },
): void {
  if (!p || !socket.connecting) return;
  p.connectTimer = setTimeout(() => {
    proxyReq.destroy(new TimeoutError('connecting to the upstream timed out'));
  }, connect.connectTimeoutMs);
  socket.once(connect.secure ? 'secureConnect' : 'connect', () => clearTimeout(p.connectTimer));
}

/** The upstream's response head goes to the client minus hop-by-hop headers, then the body is piped. */
function relayResponse(p: Pending | undefined, proxyRes: IncomingMessage): void {
  proxyRes.on('error', (err: Error) => {
    p?.log.debug('http upstream response failed', {
      reason: 'UPSTREAM_FAILED',
      ...p.fields,
      error: errnoCode(err) ?? err.message,
    });
    p?.res.destroy();
  });
  if (!p || p.res.destroyed) {
    proxyRes.destroy();
    return;
  }
  clearTimeout(p.connectTimer);
  const status = proxyRes.statusCode ?? 0;
  // Node's client parser takes any three digits; writeHead throws on a status outside 100-999.
  if (status < 100 || status > 599) {
    proxyRes.destroy();
    failUpstream(p.res, new Error(`the upstream answered status ${status}`), p.log, p.fields);
    return;
  }
  p.res.writeHead(status, proxyRes.statusMessage, clientResponseHeaders(proxyRes.headers));
  proxyRes.pipe(p.res);
  p.log.debug('http request', { ...p.fields, status, via: 'upstream', scheme: p.scheme });
}
