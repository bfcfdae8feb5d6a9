/**
 * Routing on the two HTTP servers: a request goes through the policy (framing, forwarded client, Host, client
 * certificate) to the built-in pages, `web` files or `httpUpstream` (http/server.ts); an upgrade goes to the
 * WebSocket pipeline (websocket/upgrade.ts). Each request and upgrade uses the snapshot current when it arrived, and
 * runs inside the error boundary: what a handler throws ends its connection only.
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Config } from '../config/types.js';
import type { ConnectionContext } from '../context.js';
import { failConnection, guard } from '../boundary.js';
import { CA_PATH, type BuiltinInfo } from '../http/builtin.js';
import { refuseBadFraming } from '../http/framing.js';
import { webRootHeaders } from '../http/headers.js';
import { reject } from '../http/reject.js';
import { handleClientError, handleRequest } from '../http/server.js';
import type { HttpUpstream } from '../http/upstream.js';
import type { Logger } from '../log.js';
import { extractToken, hostForLog, pathForLog, type TokenFrom } from '../targets/token.js';
import { peerLogFields, requestCertVerdict } from '../tls/peer.js';
import type { createUpgradeHandler } from '../websocket/upgrade.js';
import { forwardedClientAdmitted } from './accept.js';
import { isServing, type Runtime } from './runtime.js';
import type { ServerParts, ServerState } from './state.js';

/** What routing needs besides the server's parts and state. */
export interface RouteDeps {
  readonly version: string;
  readonly upstream: HttpUpstream | undefined;
  readonly upgrade: ReturnType<typeof createUpgradeHandler>;
}

/** Where a token sits in a request under `config` (path or host name); logs show it as ***. */
function tokenFromOf(config: Config): TokenFrom {
  return config.targets.kind === 'token' ? config.targets.from : 'query';
}

/** A request's path as refusal lines show it (without a token in its last segment). */
function pathOf(req: IncomingMessage, config: Config): string {
  return pathForLog((req.url ?? '').split('?')[0] ?? '', tokenFromOf(config));
}

/** A token in the path or Host that an error message might carry: kept out of the boundary's line. */
function requestSecret(req: IncomingMessage, config: Config): string | undefined {
  try {
    return config.targets.kind === 'token'
      ? extractToken(req.url ?? '/', req.headers.host, tokenFromOf(config))
      : undefined;
  } catch {
    return undefined;
  }
}

/** Makes the WebSocket servers the snapshots use (one per `maxMessageSize` value). */
export function wssMaker(
  parts: Pick<ServerParts, 'connOf' | 'log' | 'chosenProtocols'>,
): (maxPayload: number) => WebSocketServer {
  const connLog = (socket: Duplex): Logger => parts.connOf.get(socket)?.log ?? parts.log;
  return (maxPayload) => {
    const wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload,
      handleProtocols: (_offered, req) => parts.chosenProtocols.get(req) ?? false,
    });
    wss.on('error', (err) => parts.log.error('websocket server error', { error: err.message }));
    // If ws ever refuses a handshake itself, answer through the same path as every other refusal.
    wss.on(
      'wsClientError',
      guard(
        (err: Error, socket: Duplex) => handleClientError(err, socket, connLog(socket)),
        (err, _e, socket) => failConnection(socket, err, { log: connLog(socket), where: 'wsClientError' }),
      ),
    );
    return wss;
  };
}

/** What the built-in page shows: version, demo mode, the certificate in use and wsproxy's own CA. */
function builtinInfo(parts: ServerParts, version: string, config: Config): BuiltinInfo {
  const cert = parts.tls.certificate();
  const ownCa = parts.tls.ownCa();
  return {
    version,
    demo: config.targets.kind === 'demo',
    websocketPath: '/websockify',
    certificate: cert
      ? {
          loaded: true,
          fingerprint256: cert.fingerprint256,
          subject: cert.subject,
          names: cert.names,
          validTo: cert.validTo,
        }
      : { loaded: false },
    ...(ownCa
      ? { ca: { path: CA_PATH, fingerprint256: ownCa.fingerprint256, subject: ownCa.subject, validTo: ownCa.validTo } }
      : {}),
  };
}

/** Refuses a request the Host allowlist or the client-certificate rule turns away; true once refused. */
function refusedRequest(
  req: IncomingMessage,
  res: ServerResponse,
  runtime: Runtime,
  secure: boolean,
  conn: ConnectionContext | undefined,
  log: Logger,
): boolean {
  const config = runtime.config;
  const hostRefusal = runtime.policy.checkHost(req);
  if (hostRefusal) {
    reject(res, hostRefusal.code, {
      log,
      ...(hostRefusal.message ? { message: hostRefusal.message } : {}),
      fields: {
        path: pathOf(req, config),
        ...hostRefusal.fields,
        host: hostForLog(req.headers.host ?? '', tokenFromOf(config)),
      },
    });
    return true;
  }
  // `verifyClient` required covers pages, files and the upstream too, not only upgrades.
  const certVerdict = requestCertVerdict(config.tls.clientCert, secure, conn?.peer);
  if (certVerdict.ok) return false;
  reject(res, certVerdict.code, {
    log,
    message: certVerdict.message,
    fields: { method: req.method ?? '', path: pathOf(req, config), ...peerLogFields(conn?.peer) },
  });
  return true;
}

/** Serves one ordinary request with the snapshot `runtime`. */
async function serveRequest(
  parts: ServerParts,
  deps: RouteDeps,
  runtime: Runtime,
  secure: boolean,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { config, policy, authenticator } = runtime;
  const direct = parts.connOf.get(req.socket);
  direct?.handshakeDone();
  const conn = direct && policy.requestConn(direct, req);
  const log = conn?.log ?? parts.log;
  if (refuseBadFraming(req, res, log)) return;
  if (conn && !forwardedClientAdmitted(parts, conn, req.socket, false)) return;
  if (refusedRequest(req, res, runtime, secure, conn, log)) return;
  // HSTS only over https (RFC 6797 §7.2) and only when asked: it makes a self-signed certificate un-clickable.
  const hsts = config.tls.options?.hstsSeconds ?? 0;
  if (hsts > 0 && secure) res.setHeader('Strict-Transport-Security', `max-age=${hsts}`);
  const tokenFrom = tokenFromOf(config);
  await handleRequest(
    req,
    res,
    conn,
    {
      webRootReal: runtime.webRootReal,
      webHeaders: webRootHeaders(config.webCsp),
      webSecrets: runtime.webSecrets,
      info: () => builtinInfo(parts, deps.version, config),
      caCert: () => parts.tls.ownCa()?.pem,
      webAuth: config.auth?.webAuth ? authenticator : undefined,
      authGuard: (c) => policy.authAttempt(c),
      upstream: deps.upstream,
      logPath: (path) => pathForLog(path, tokenFrom),
    },
    parts.log,
  );
}

/** Hands an upgrade to the WebSocket pipeline with the snapshot current now. */
function routeUpgrade(
  parts: ServerParts,
  state: ServerState,
  deps: RouteDeps,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<void> | undefined {
  const conn = parts.connOf.get(socket);
  if (!conn) {
    socket.destroy();
    return undefined;
  }
  conn.handshakeDone();
  const runtime = state.runtime;
  const rconn = runtime.policy.requestConn(conn, req);
  if (!forwardedClientAdmitted(parts, rconn, socket, true)) return undefined;
  if (!isServing(runtime)) throw new Error('server not listening');
  return deps.upgrade(req, socket, head, rconn, runtime);
}

/** Attaches request, upgrade, client-error and Expect handling to both HTTP servers. */
export function attachRoutes(parts: ServerParts, state: ServerState, deps: RouteDeps): void {
  const connLog = (socket: Duplex): Logger => parts.connOf.get(socket)?.log ?? parts.log;
  const failRequest = (err: unknown, req: IncomingMessage, res: ServerResponse): void =>
    failConnection(res, err, {
      log: connLog(req.socket),
      where: 'request',
      secret: requestSecret(req, state.runtime.config),
    });
  const failUpgrade = (err: unknown, req: IncomingMessage, socket: Duplex): void =>
    failConnection(socket, err, {
      log: connLog(socket),
      where: 'upgrade',
      secret: requestSecret(req, state.runtime.config),
    });
  const each: [HttpServer, boolean][] = [
    [parts.http.plain, false],
    [parts.http.secure, true],
  ];
  for (const [server, secure] of each) {
    server.on(
      'request',
      guard((req: IncomingMessage, res: ServerResponse) => {
        serveRequest(parts, deps, state.runtime, secure, req, res).catch((err: unknown) => failRequest(err, req, res));
      }, failRequest),
    );
    server.on(
      'upgrade',
      guard((req: IncomingMessage, socket: Duplex, head: Buffer) => {
        routeUpgrade(parts, state, deps, req, socket, head)?.catch((err: unknown) => failUpgrade(err, req, socket));
      }, failUpgrade),
    );
    server.on(
      'clientError',
      guard(
        (err: Error, socket: Duplex) => handleClientError(err, socket, connLog(socket)),
        (err, _e, socket) => failConnection(socket, err, { log: connLog(socket), where: 'clientError' }),
      ),
    );
    // Without this Node answers any other Expect with a bare 417 of its own: no reason, no log line, kept alive.
    server.on(
      'checkExpectation',
      guard((req: IncomingMessage, res: ServerResponse) => {
        const fields = { path: pathOf(req, state.runtime.config) };
        reject(res, 'EXPECTATION_FAILED', { log: connLog(req.socket), fields, quiet: true });
      }, failRequest),
    );
  }
}
