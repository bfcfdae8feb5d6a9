/**
 * The authorise pipeline for an HTTP `upgrade` request, in order: handshake syntax (400/405/426) → subprotocol (400) →
 * Origin (403) → target (404/503) → connect the target (502/504) → 101 via `ws` → relay. Every refusal goes through
 * `reject()`; the target is connected before the 101, so the client sees "502 target refused" rather than a WebSocket
 * that opens and dies. Each handshake runs against the one runtime snapshot it was given.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Config } from '../config/types.js';
import type { ConnectionContext } from '../context.js';
import { AbortedError, ProxyError, clientFailureReason, errnoCode, isHttpReason } from '../errors.js';
import { reject } from '../http/reject.js';
import { extractToken, hostForLog, pathForLog } from '../targets/token.js';
import { describeTarget } from '../targets/types.js';
import { chooseSubprotocol, isOriginAllowed, validateHandshake } from './protocol.js';
import { clientCertVerdict, peerLogFields } from '../tls/peer.js';
import { failConnection, logInternalError } from '../boundary.js';
import type { Admitted, Handshake, Slot, UpgradeDeps, UpgradeRuntime } from './handshake.js';
import { admit, dial, readToken } from './admit.js';
import { sessionStartFailed, startSession } from './session.js';
import { flag } from '../config/options/index.js';

/** The request's token, to keep it out of an error line; undefined if there is none (or it cannot be read). */
function tokenOf(req: IncomingMessage, config: Config): string | undefined {
  try {
    return config.targets.kind === 'token'
      ? extractToken(req.url ?? '/', req.headers.host, config.targets.from)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Builds the `upgrade` handler. `conn` is the connection's context, `runtime` the snapshot this handshake uses. */
export function createUpgradeHandler(deps: UpgradeDeps) {
  return async function handleUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    conn: ConnectionContext,
    runtime: UpgradeRuntime,
  ): Promise<void> {
    const slot: Slot = {};
    const unhold = deps.holdResolver?.(runtime.resolver);
    try {
      await pipeline(deps, startHandshake(req, socket, conn, runtime, slot), head);
    } catch (err) {
      // The error boundary: 500 before the 101; after it the session's own boundary has answered (1011).
      const ctx = { log: conn.log, where: 'upgrade', secret: tokenOf(req, runtime.config) };
      if (slot.upgraded) logInternalError(err, ctx);
      else failConnection(socket, err, ctx);
    } finally {
      unhold?.();
      if (!slot.kept) {
        slot.release?.();
        if (slot.single) deps.singleSession?.release();
      }
      slot.authAttempt?.settle(slot.authFailed === true);
    }
  };
}

/** The handshake's own state; the socket gets its 'error' listener at once (the HTTP server no longer watches it). */
function startHandshake(
  req: IncomingMessage,
  socket: Duplex,
  conn: ConnectionContext,
  runtime: UpgradeRuntime,
  slot: Slot,
): Handshake {
  const { config, resolver } = runtime;
  const scheme = conn.tls ? 'wss' : 'ws';
  const log = conn.log.child({ scheme });
  const tokenFrom = config.targets.kind === 'token' ? config.targets.from : 'query';
  const fields = { path: resolver.usesToken ? pathForLog(req.url ?? '', tokenFrom) : (req.url ?? '') };
  const abort = new AbortController();
  const detach = (): void => {
    socket.off('error', onSocketError);
    socket.off('close', onSocketClose);
  };
  socket.on('error', onSocketError);
  socket.once('close', onSocketClose);
  return { req, socket, conn, runtime, slot, scheme, log, tokenFrom, fields, abort, detach };
  function onSocketError(err: Error): void {
    log.debug('client socket error during upgrade', {
      reason: clientFailureReason(err),
      error: errnoCode(err) ?? err.message,
    });
  }
  function onSocketClose(): void {
    abort.abort();
  }
}

async function pipeline(deps: UpgradeDeps, h: Handshake, head: Buffer): Promise<void> {
  const protocol = checkRequest(h, deps);
  if (protocol === false) return;
  if (!checkClient(h)) return;
  const read = readToken(h);
  if (read === undefined) return;
  let admitted;
  let dialled: { socket: Socket; address: string };
  try {
    admitted = await admit(h, deps, read.token);
    if (admitted === undefined) return;
    dialled = await dial(h, deps, admitted.target);
  } catch (err) {
    if (err instanceof AbortedError || h.abort.signal.aborted) {
      h.log.debug('client left while the target was being connected', { reason: 'CLIENT_LEFT_UPGRADE' });
      return;
    }
    if (!(err instanceof ProxyError) || !isHttpReason(err.code)) throw err;
    // The client gets the catalogue text; the details (internal addresses, API hosts) stay in the log.
    reject(h.socket, err.code, { log: h.log, fields: { ...h.fields, detail: err.message } });
    return;
  }
  if (h.abort.signal.aborted || h.socket.destroyed) {
    dialled.socket.destroy();
    return;
  }
  upgradeAndRelay(h, deps, head, protocol, dialled, admitted);
}

/** Refusals that need only the request and the server's state; the chosen subprotocol, or false once refused. */
function checkRequest(h: Handshake, deps: UpgradeDeps): string | undefined | false {
  const { req, socket, log, fields } = h;
  const busy = deps.isShuttingDown() ? 'SHUTTING_DOWN' : deps.singleSession?.taken ? 'RUN_ONCE_BUSY' : undefined;
  if (busy) {
    reject(socket, busy, { log, fields });
    return false;
  }
  const refusal = h.runtime.policy?.preflight(req, h.conn);
  if (refusal) {
    // With `hostToken` the Host header is the token: it is logged as *** like every other token.
    const host =
      refusal.fields?.['host'] === undefined ? {} : { host: hostForLog(refusal.fields['host'], h.tokenFrom) };
    reject(socket, refusal.code, {
      log,
      fields: { ...fields, ...refusal.fields, ...host },
      ...(refusal.message ? { message: refusal.message } : {}),
      ...(refusal.headers ? { headers: refusal.headers } : {}),
    });
    return false;
  }
  const problem = validateHandshake(req.method, req.headers);
  if (problem) {
    const headers = problem.headers ? { headers: problem.headers } : {};
    reject(socket, problem.code, { message: problem.message, log, fields, ...headers });
    return false;
  }
  const choice = chooseSubprotocol(req.headersDistinct['sec-websocket-protocol']);
  if (!choice.ok) {
    reject(socket, choice.problem.code, { message: choice.problem.message, log, fields });
    return false;
  }
  const origin = req.headers.origin;
  if (!isOriginAllowed(origin, req.headers.host, h.conn.tls, h.runtime.config.allowOrigins)) {
    reject(socket, 'ORIGIN_FORBIDDEN', {
      message: `Pages from ${origin ?? 'this origin'} may not connect here; start wsproxy with ${flag('allowOrigin')} ${origin ?? '<origin>'} to allow them.`,
      log,
      fields: { ...fields, origin },
    });
    return false;
  }
  return choice.protocol;
}

/** The client certificate, then the brute-force guard; false once refused. */
function checkClient(h: Handshake): boolean {
  const { socket, log, fields, conn, runtime } = h;
  // Client certificates: before the token and the target, so a client without one learns nothing about them.
  const certVerdict = clientCertVerdict(runtime.config.tls.clientCert, conn.tls, conn.peer);
  if (!certVerdict.ok) {
    reject(socket, certVerdict.code, {
      message: certVerdict.message,
      log,
      fields: { ...fields, ...peerLogFields(conn.peer) },
    });
    return false;
  }
  // Token and credential guessing: refused while this client has failed too often (before anything is looked up).
  if (!runtime.resolver.usesToken && !runtime.authenticator) return true;
  const guard = runtime.policy?.authAttempt(conn);
  if (guard && !guard.ok) {
    reject(socket, guard.refusal.code, {
      log,
      fields: { ...fields, ...guard.refusal.fields },
      ...(guard.refusal.headers ? { headers: guard.refusal.headers } : {}),
    });
    return false;
  }
  if (guard) h.slot.authAttempt = guard.attempt;
  return true;
}

/** The 101 through `ws` with exactly the subprotocol decided here, then the session. */
function upgradeAndRelay(
  h: Handshake,
  deps: UpgradeDeps,
  head: Buffer,
  protocol: string | undefined,
  dialled: { socket: Socket; address: string },
  admitted: Admitted,
): void {
  const { req, socket, slot } = h;
  if (protocol !== undefined) deps.chosenProtocols.set(req, protocol);
  // Our choice is final: ws would parse the raw header again and refuse shapes we accept ('binary,', an empty line)
  // after the target is already connected. Hand it exactly what we decided.
  if (protocol === undefined) delete req.headers['sec-websocket-protocol'];
  else req.headers['sec-websocket-protocol'] = protocol;
  let accepted = false;
  h.runtime.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    accepted = true;
    slot.upgraded = true;
    h.detach();
    try {
      startSession(deps, h.runtime, ws, dialled, {
        conn: h.conn,
        resolver: h.runtime.resolver,
        scheme: h.scheme,
        target: describeTarget(admitted.target),
        protocol,
        tokenHash: h.fields.token_hash,
        identity: h.fields.identity,
        resolved: admitted.resolved,
        slot,
      });
    } catch (err) {
      sessionStartFailed(ws, dialled.socket, err, h.log);
    }
  });
  // ws completes the upgrade synchronously (no async verifyClient); if it did not, the client socket was already
  // unusable and ws destroyed it. The dialled target must not outlive it.
  if (!accepted) {
    dialled.socket.destroy();
    h.log.debug('client socket closed before the 101 could be sent', { reason: 'CLIENT_LEFT_UPGRADE' });
  }
}
