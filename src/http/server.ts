/**
 * The HTTP stage: one `http.Server` for plain clients and one `https.Server` for TLS clients, both fed sockets by the
 * listener (`emit('connection')`), neither listening itself. Ordinary requests get static files or the built-in page;
 * parser errors get 400/431 through `reject()`. Upgrades are passed to the handler `server.ts` gives.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Authenticator } from '../auth/types.js';
import type { Limits } from '../config/types.js';
import type { ConnectionContext } from '../context.js';
import { clientFailureReason, errnoCode } from '../errors.js';
import { publishRefusedOn } from '../events.js';
import type { LogFields, Logger } from '../log.js';
import type { RequestPolicy } from '../policy/request-policy.js';
import {
  BUILTIN_WEB_ROOT,
  CA_PATH,
  INFO_PATH,
  NOVNC_ROOT,
  novncSegments,
  sendCaCert,
  sendInfo,
  type BuiltinInfo,
} from './builtin.js';
import { framingRefused } from './framing.js';
import { reject } from './reject.js';
import { resolveStaticPath, serveStatic } from './static.js';
import type { WebSecrets } from './web-secrets.js';
import { ownsPath, type HttpUpstream } from './upstream.js';
import type { SecureContextOptions } from 'node:tls';

/** The two servers of the HTTP stage. */
export interface HttpServers {
  readonly plain: HttpServer;
  readonly secure: HttpsServer;
}

/** Node's HTTP limits, set on both servers. The first request's headers are also under the handshake deadline. */
function httpOptions(limits: Limits) {
  return {
    headersTimeout: limits.handshakeTimeoutMs,
    // Node's own default for a whole request, body included: slow uploads to `httpUpstream` must still get through.
    requestTimeout: Math.max(300_000, limits.handshakeTimeoutMs),
    keepAliveTimeout: 5_000,
    maxHeaderSize: 16 * 1024,
    // How often Node checks the two timeouts above (its default, 30 s, would let a slow client linger).
    connectionsCheckingInterval: Math.min(1_000, limits.handshakeTimeoutMs),
    insecureHTTPParser: false,
    // HTTP/1.1 without Host is refused in handleRequest: Node's own 400 would carry no reason code and log nothing.
    requireHostHeader: false,
    joinDuplicateHeaders: false,
  } as const;
}

/** Creates both servers with the same limits. `tls` holds the TLS profile (and certificate, once loaded). */
export function createHttpServers(
  limits: Limits,
  tls: SecureContextOptions & { honorCipherOrder: boolean; requestCert?: boolean; rejectUnauthorized?: boolean },
): HttpServers {
  const plain = createHttpServer(httpOptions(limits));
  const secure = createHttpsServer({
    ...httpOptions(limits),
    ...tls,
    // The listener's deadline covers the handshake; this is a backstop with the same value.
    handshakeTimeout: limits.handshakeTimeoutMs,
    ALPNProtocols: ['http/1.1'],
  });
  // These servers never listen (the listener hands them sockets), and Node starts the check that enforces
  // headersTimeout/requestTimeout, and the tracking behind closeIdleConnections(), on 'listening'. Without it a kept-alive
  // connection could trickle the headers of its next request forever.
  plain.emit('listening');
  secure.emit('listening');
  return { plain, secure };
}

/** What request routing needs. */
export interface RequestDeps {
  readonly webRootReal: string | undefined;
  /** Response headers for `web` files (`webRootHeaders(`webCsp`)`). */
  readonly webHeaders: Readonly<Record<string, string>>;
  /** Files under `web` that are never served (secrets: see web-secrets.ts). */
  readonly webSecrets?: WebSecrets | undefined;
  /** `webAuth`: the auth plugin guards pages and files too. */
  readonly webAuth: Authenticator | undefined;
  /** The brute-force guard for `webAuth` checks (`authFailureLimit`). */
  readonly authGuard?: ((conn: ConnectionContext) => ReturnType<RequestPolicy['authAttempt']>) | undefined;
  readonly info: () => BuiltinInfo;
  /** PEM of wsproxy's own CA when it issued the certificate in use (served at /ca.crt), else undefined. */
  readonly caCert?: () => string | undefined;
  /** `httpUpstream`: requests wsproxy does not answer itself go here. */
  readonly upstream?: HttpUpstream | undefined;
  /** The path as refusal lines show it (`tokenFromPath`: without its last segment, which may be a token). */
  readonly logPath?: ((path: string) => string) | undefined;
}

/** Serves one ordinary (non-upgrade) request. */
export async function handleRequest(
  req: IncomingMessage,
  res: ServerResponse,
  conn: ConnectionContext | undefined,
  deps: RequestDeps,
  log: Logger,
): Promise<void> {
  const method = req.method ?? '';
  const rawUrl = req.url ?? '/';
  const path = rawUrl.split('?')[0] ?? '/';
  const fields = { method, path: deps.logPath ? deps.logPath(path) : path };
  const rlog = conn?.log ?? log;
  if (req.httpVersion === '1.1' && req.headers.host === undefined) {
    reject(res, 'BAD_REQUEST', { message: 'An HTTP/1.1 request needs a Host header.', log: rlog, fields, quiet: true });
    return;
  }
  // With `httpUpstream`, wsproxy answers only its own routes; every other method and path belongs to the app.
  const toUpstream = deps.upstream !== undefined && !(await ownsPath(path, deps.webRootReal));
  if (!toUpstream && method !== 'GET' && method !== 'HEAD') {
    reject(res, 'METHOD_NOT_ALLOWED', { headers: { Allow: 'GET, HEAD' }, log: rlog, fields });
    return;
  }
  if (deps.webAuth && !(await webAuthPasses(req, res, conn, deps.webAuth, deps.authGuard, { fields, log: rlog, path })))
    return;
  if (toUpstream && deps.upstream) {
    deps.upstream.forward(req, res, {
      remoteAddress: conn?.remoteAddress ?? req.socket.remoteAddress ?? '',
      tls: conn?.tls ?? false,
      log: rlog,
      peer: conn?.peer,
    });
    return;
  }
  const mapped = resolveStaticPath(path);
  if (!mapped.ok) {
    if (mapped.status === 400)
      reject(res, 'BAD_REQUEST', { message: 'The request path is malformed.', log: rlog, fields });
    else reject(res, 'NOT_FOUND', { log: rlog, fields });
    return;
  }
  let status: number;
  if (deps.webRootReal !== undefined) {
    status = await serveStatic(
      res,
      deps.webRootReal,
      mapped.segments,
      method,
      deps.webHeaders,
      (real) => deps.webSecrets?.hides(real) ?? Promise.resolve(false),
    );
  } else if (path === INFO_PATH) {
    sendInfo(res, deps.info(), method);
    status = 200;
  } else if (path === CA_PATH && deps.caCert?.() !== undefined) {
    sendCaCert(res, deps.caCert() ?? '', method);
    status = 200;
  } else if (NOVNC_ROOT !== undefined && novncSegments(mapped.segments) !== undefined) {
    status = await serveStatic(res, NOVNC_ROOT, novncSegments(mapped.segments) ?? [], method);
  } else {
    status = await serveStatic(res, BUILTIN_WEB_ROOT, mapped.segments, method);
  }
  // A path that was served is a file name, not a token.
  rlog.debug('http request', {
    ...fields,
    ...(status < 400 ? { path } : {}),
    status,
    scheme: conn?.tls ? 'https' : 'http',
  });
}

/**
 * `webAuth`: asks the auth plugin about a page request; refused (answered, false) when it says no or while the
 * client is held back by the brute-force guard. A 401 to a request without credentials is a login's first step and
 * is not counted as a failure.
 */
async function webAuthPasses(
  req: IncomingMessage,
  res: ServerResponse,
  conn: ConnectionContext | undefined,
  auth: Authenticator,
  guardOf: RequestDeps['authGuard'],
  at: { fields: LogFields; log: Logger; path: string },
): Promise<boolean> {
  const guard = conn && guardOf?.(conn);
  if (guard && !guard.ok) {
    reject(res, guard.refusal.code, {
      log: at.log,
      fields: { ...at.fields, ...guard.refusal.fields },
      ...(guard.refusal.headers ? { headers: guard.refusal.headers } : {}),
    });
    return false;
  }
  let failed = false;
  try {
    const decision = await auth.check({
      remoteAddress: conn?.remoteAddress ?? req.socket.remoteAddress ?? '',
      scheme: conn?.tls ? 'https' : 'http',
      host: req.headers.host,
      origin: req.headers.origin,
      authorization: req.headers.authorization,
      path: at.path,
      target: undefined,
      peer: conn?.peer,
    });
    if (decision.kind !== 'deny') return true;
    failed = decision.status !== 401 || req.headers.authorization !== undefined;
    reject(res, decision.status === 401 ? 'AUTH_REQUIRED' : 'AUTH_FORBIDDEN', {
      message: decision.reason,
      log: at.log,
      fields: { ...at.fields, plugin: auth.name },
      ...(decision.headers ? { headers: decision.headers } : {}),
    });
    return false;
  } finally {
    if (guard?.ok) guard.attempt.settle(failed);
  }
}

/**
 * Answers what the HTTP parser rejected: 431 for oversized headers, 400 for the rest; a reset or timed-out client, or
 * one whose TLS layer failed, is just closed. Adding a 'clientError' listener makes us responsible for closing the
 * socket (Node docs).
 */
export function handleClientError(err: Error, socket: Duplex, log: Logger): void {
  const code = errnoCode(err) ?? '';
  // ERR_SSL_*: the TLS layer failed (e.g. OpenSSL could not handle the client's certificate); no answer can pass.
  if (code === 'ECONNRESET' || code === 'EPIPE' || code.startsWith('ERR_SSL_') || !socket.writable) {
    log.debug('client connection failed', { reason: clientFailureReason(err), error: code || err.message });
    socket.destroy();
    return;
  }
  if (framingRefused(socket)) {
    // llhttp fails on the body of a request already refused for its framing: that 400 and its log line are the answer.
    socket.end();
    setTimeout(() => socket.destroy(), 5_000).unref(); // a client that never reads must not hold it
    return;
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADERS_TIMEOUT') {
    log.debug('client too slow sending its request', { reason: 'HANDSHAKE_TIMEOUT' });
    publishRefusedOn(socket, 'HANDSHAKE_TIMEOUT');
    socket.destroy();
    return;
  }
  if (code === 'HPE_HEADER_OVERFLOW') {
    reject(socket, 'HEADERS_TOO_LARGE', { log, fields: { error: code }, quiet: true });
    return;
  }
  reject(socket, 'BAD_REQUEST', { log, fields: { error: code || err.message }, quiet: true });
}
