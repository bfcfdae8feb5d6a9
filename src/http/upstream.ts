/**
 * `--http-upstream URL`: one port for an application and its tunnel. Ordinary HTTP requests that wsproxy does not
 * answer itself are reverse-proxied to URL with `http-proxy-3` (the maintained, API-compatible successor of the design
 * card's `http-proxy`). WebSocket upgrades never come here: every upgrade belongs to the tunnel (server.ts sends
 * 'upgrade' events to websocket/upgrade.ts only).
 *
 * What this module adds around the library, and why:
 * - Hop-by-hop headers (RFC 9110 §7.6.1) are removed both ways, including those named in `Connection`; the library
 *   copies most of them through.
 * - `X-Forwarded-For/-Proto/-Host/-Port` and `Forwarded` are *replaced*, not appended: wsproxy has no trusted-proxy
 *   list, so a client's own copies would be forged facts. Client copies of certificate headers are dropped.
 * - The response is written here (`selfHandleResponse`), so no hop-by-hop header can leak back and the client's
 *   `Connection: close` is honoured.
 * - Every failure before the response head (refused, DNS, TLS, connect timeout, no answer in time) is one 502 through
 *   `reject()` with reason UPSTREAM_FAILED and the errno in the log; after the head, the client connection is cut.
 */
import {
  Agent as HttpAgent,
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Socket } from 'node:net';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { createProxyServer } from 'http-proxy-3';
import { realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { errnoCode, TimeoutError } from '../errors.js';
import { applyFraming, upstreamFraming } from './framing.js';
import type { PeerIdentity } from '../tls/peer.js';
import type { Logger } from '../log.js';
import { bracketHost, ipFamily, isIpLiteral } from '../net/address.js';
import { BUILTIN_WEB_ROOT, INFO_PATH, novncSegments } from './builtin.js';
import { reject } from './reject.js';
import { failConnection, guard } from '../boundary.js';
import { resolveStaticPath } from './static.js';

/** Settings of the upstream proxy. */
export interface UpstreamOptions {
  /** `http://` or `https://` URL, optionally with a path prefix (validated by config.ts). */
  readonly url: string;
  /** Deadline for the TCP (and TLS) connection to the upstream. */
  readonly connectTimeoutMs: number;
  /** Deadline for the upstream's response head, and the longest silence on the upstream socket afterwards. */
  readonly responseTimeoutMs: number;
  /**
   * Remove `Authorization` before forwarding: set when `--web-auth` consumed it (the credential is wsproxy's, not the
   * application's). A function is asked per request, so a reload that turns `--web-auth` on takes effect at once.
   */
  readonly stripAuthorization: boolean | (() => boolean);
  /**
   * `--upstream-underscore-headers`: pass on header names that contain `_` (nginx's `underscores_in_headers`). Asked
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

// RFC 9110 §7.6.1 connection-specific fields, plus Proxy-* (meant for this hop) and the non-standard ones proxies
// commonly drop. `Expect` is answered by our own HTTP server (100 Continue) before the request reaches us.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'http2-settings',
]);

// Facts only wsproxy may state: the client's own copies are removed before ours are set.
const FORWARDING = /^(?:forwarded|x-forwarded-.*|x-real-ip)$/;
// Client certificate facts in the style of nginx/Apache/websockify (X-SSL-Client-*, SSL_CLIENT_*, X-Client-Cert...).
// A client must never be able to send these itself (websockify's case-sensitive filter is §b.10 #2).
const CLIENT_CERT = /^(?:x-ssl-client-.*|ssl[-_]client[-_].*|x-client-cert.*|x-client-verify|x-client-dn)$/;

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
 * Whether wsproxy answers `path` itself when `--http-upstream` is set (everything else goes to the application):
 * - with `--web DIR`: a file that exists in DIR (a directory with an index.html counts), so noVNC and the app can share
 *   the port and the app gets every path DIR does not have;
 * - without `--web`: `/wsproxy/…` (info.json), `/novnc/core/…` and `/novnc/vendor/…`, and the built-in files such as
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

/** Names listed in `Connection` headers (they are hop-by-hop too). Pure. */
export function connectionTokens(value: string | string[] | undefined): Set<string> {
  const out = new Set<string>();
  for (const line of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
    for (const item of line.split(',')) {
      const name = item.trim().toLowerCase();
      if (name !== '') out.add(name);
    }
  }
  return out;
}

/** Which client headers may not reach the upstream, besides those named in `Connection`. */
export interface HeaderFilter {
  /** Remove `Authorization` (see {@link UpstreamOptions.stripAuthorization}). */
  readonly stripAuthorization: boolean;
  /** Keep names with `_` (`--upstream-underscore-headers`); protected names are dropped after folding regardless. */
  readonly underscoreHeaders?: boolean;
}

/**
 * Whether a client header `name` (lower case) stays out of the upstream request. CGI, WSGI and PHP read `X_Real_IP`
 * and `X-Real-IP` as the same HTTP_X_REAL_IP, so protected names are matched with `_` folded to `-`. Pure.
 */
export function dropsHeader(name: string, named: ReadonlySet<string>, filter: HeaderFilter): boolean {
  if (name.includes('_') && filter.underscoreHeaders !== true) return true;
  const folded = name.replace(/_/g, '-');
  if (
    HOP_BY_HOP.has(folded) ||
    named.has(name) ||
    named.has(folded) ||
    FORWARDING.test(folded) ||
    CLIENT_CERT.test(folded)
  )
    return true;
  // Framing is set by upstreamFraming; a `Content_Length` would read as a second Content-Length to a CGI application.
  if (folded === 'content-length') return true;
  return filter.stripAuthorization && folded === 'authorization';
}

/**
 * The headers to send upstream: the client's, minus hop-by-hop and forwarding/certificate facts, plus ours. Pure.
 * `Host` is kept (the application sees the name the user typed) and repeated as `X-Forwarded-Host`. The body's framing
 * is set last, from the client's own (chunked stays chunked, a length stays that length).
 */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  facts: { remoteAddress: string; tls: boolean; localPort: number | undefined; peer?: PeerIdentity | undefined },
  filter: HeaderFilter,
): IncomingHttpHeaders {
  const named = connectionTokens(incoming.connection);
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || dropsHeader(name, named, filter)) continue;
    out[name] = value;
  }
  const proto = facts.tls ? 'https' : 'http';
  out['x-forwarded-for'] = facts.remoteAddress;
  out['x-forwarded-proto'] = proto;
  if (incoming.host !== undefined) out['x-forwarded-host'] = incoming.host;
  if (facts.localPort !== undefined) out['x-forwarded-port'] = String(facts.localPort);
  const forAddr = ipFamily(facts.remoteAddress) === 6 ? `"${bracketHost(facts.remoteAddress)}"` : facts.remoteAddress;
  out.forwarded = `for=${forAddr};proto=${proto}${incoming.host === undefined ? '' : `;host="${incoming.host.replace(/["\\]/g, '')}"`}`;
  // The client's own copies were dropped above; these come from the TLS socket only.
  if (facts.tls) Object.assign(out, clientCertHeaders(facts.peer));
  applyFraming(out, upstreamFraming(incoming));
  return out;
}

/**
 * A header value from certificate text: printable ASCII kept, anything else (CR, LF, UTF-8) percent-encoded as UTF-8
 * bytes. Not encodeURIComponent: it throws on a lone surrogate, and this text comes from the client's certificate.
 */
export function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]+/g, (run) =>
    [...Buffer.from(run, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

/**
 * The client certificate as `X-SSL-Client-*` headers (mod_ssl's SSL_CLIENT_* facts, nginx's naming). `Verify` is
 * always sent over TLS (`SUCCESS`, `FAILED:<reason>` or `NONE`); the identity only for a verified certificate, so an
 * application can never mistake an untrusted certificate's CN for a user. Pure.
 */
export function clientCertHeaders(peer: PeerIdentity | undefined): Record<string, string> {
  if (peer === undefined || !peer.presented) return { 'x-ssl-client-verify': 'NONE' };
  if (!peer.authorized) return { 'x-ssl-client-verify': `FAILED:${headerSafe(peer.verifyError ?? 'UNKNOWN')}` };
  const out: Record<string, string> = { 'x-ssl-client-verify': 'SUCCESS' };
  const set = (name: string, value: string | undefined): void => {
    if (value !== undefined && value !== '') out[name] = headerSafe(value);
  };
  set('x-ssl-client-s-dn', peer.subject);
  set('x-ssl-client-s-dn-cn', peer.cn);
  set('x-ssl-client-san', peer.sans.join(', '));
  set('x-ssl-client-i-dn', peer.issuer);
  set('x-ssl-client-serial', peer.serial);
  set('x-ssl-client-fingerprint', peer.fingerprint256);
  set('x-ssl-client-v-start', peer.validFrom);
  set('x-ssl-client-v-end', peer.validTo);
  return out;
}

/** The response headers to send to the client: the upstream's minus hop-by-hop ones. Pure. */
export function clientResponseHeaders(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = connectionTokens(upstream.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Builds the reverse proxy. Nothing connects until the first request. */
export function createHttpUpstream(options: UpstreamOptions, log: Logger): HttpUpstream {
  const target = new URL(options.url);
  const secure = target.protocol === 'https:';
  const host = target.hostname.replace(/^\[|\]$/g, '');
  // Keep-alive towards the upstream. For https, the certificate is checked against the configured host, never against
  // the client's Host header (Node would otherwise derive the server name from the Host header we pass through).
  const agent = secure
    ? new HttpsAgent({
        keepAlive: true,
        ...(isIpLiteral(host) ? {} : { servername: host }),
        checkServerIdentity: (_name: string, cert: PeerCertificate) => checkServerIdentity(host, cert),
      })
    : new HttpAgent({ keepAlive: true });
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
  // The error callback passed to web() handles each request's failures; this listener is the backstop so an 'error'
  // the library emits anywhere else can never be unhandled.
  proxy.on('error', (err: Error) => {
    log.warn('http upstream error', { reason: 'UPSTREAM_FAILED', error: errnoCode(err) ?? err.message });
  });

  function fail(res: ServerResponse, err: Error, rlog: Logger, fields: Record<string, string>): void {
    const code = errnoCode(err) ?? err.message;
    if (res.headersSent || res.destroyed) {
      // Half a response cannot be turned into a 502: cut the connection so the client sees it failed.
      rlog.debug('http upstream failed mid-response', { reason: 'UPSTREAM_FAILED', ...fields, error: code });
      res.destroy();
      return;
    }
    reject(res, 'UPSTREAM_FAILED', { log: rlog, fields: { ...fields, detail: code } });
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
  const pending = new WeakMap<IncomingMessage, Pending>();

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
      where: 'http-upstream',
      ...(p ? { fields: p.fields } : {}),
    });
  };

  proxy.on(
    'proxyReq',
    guard(
      (proxyReq: ClientRequest, req: IncomingMessage, _res: ServerResponse, _o: unknown, socket: Socket) => {
        const p = pending.get(req);
        // A fresh socket may hang in connect (a black-holed address); a reused keep-alive socket is already open.
        if (!p || !socket.connecting) return;
        p.connectTimer = setTimeout(() => {
          proxyReq.destroy(new TimeoutError('connecting to the upstream timed out'));
        }, options.connectTimeoutMs);
        socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(p.connectTimer));
      },
      (err, proxyReq, req, res) => {
        proxyReq.destroy();
        failRequest(err, req, res);
      },
    ),
  );

  proxy.on(
    'proxyRes',
    guard(
      (proxyRes: IncomingMessage, req: IncomingMessage) => {
        const p = pending.get(req);
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
          fail(p.res, new Error(`the upstream answered status ${status}`), p.log, p.fields);
          return;
        }
        p.res.writeHead(status, proxyRes.statusMessage, clientResponseHeaders(proxyRes.headers));
        proxyRes.pipe(p.res);
        p.log.debug('http request', { ...p.fields, status, via: 'upstream', scheme: p.scheme });
      },
      (err, proxyRes, req) => {
        proxyRes.destroy();
        failRequest(err, req);
      },
    ),
  );

  const ask = (v: boolean | (() => boolean) | undefined): boolean => (typeof v === 'function' ? v() : v === true);
  const headerFilter = (): HeaderFilter => ({
    stripAuthorization: ask(options.stripAuthorization),
    underscoreHeaders: ask(options.underscoreHeaders),
  });

  return {
    url: options.url,
    forward(req: IncomingMessage, res: ServerResponse, facts: ForwardFacts): void {
      const p: Pending = {
        res,
        log: facts.log,
        fields: { method: req.method ?? '', path: (req.url ?? '/').split('?')[0] ?? '/', upstream: target.origin },
        scheme: facts.tls ? 'https' : 'http',
        framing: upstreamFraming(req.headers),
      };
      pending.set(req, p);
      res.once('close', () => clearTimeout(p.connectTimer));
      // proxyRes.pipe(res) rethrows a response error that has no other listener; a vanished client is not a crash.
      res.on('error', (err: Error) =>
        p.log.debug('client response failed', { reason: 'UPSTREAM_CLIENT_GONE', error: errnoCode(err) ?? err.message }),
      );
      req.headers = upstreamRequestHeaders(
        req.headers,
        { remoteAddress: facts.remoteAddress, tls: facts.tls, localPort: req.socket.localPort, peer: facts.peer },
        headerFilter(),
      );
      proxy.web(req, res, (err: Error) => {
        clearTimeout(p.connectTimer);
        fail(res, err, p.log, p.fields);
      });
    },
    close(): void {
      agent.destroy();
    },
  };
}
