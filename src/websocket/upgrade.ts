/**
 * The authorise pipeline for an HTTP `upgrade` request, in order: handshake syntax (400/405/426) → subprotocol (400) →
 * Origin (403) → target (404/503) → connect the target (502/504) → 101 via `ws` → relay. Every refusal goes through
 * `reject()`; the target is connected before the 101, so the client sees "502 target refused" rather than a WebSocket
 * that opens and dies.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Config } from '../config.js';
import type { ConnectionContext } from '../context.js';
import type { Authenticator } from '../auth/types.js';
import { ProxyError, REASONS, errnoCode, isHttpReason, type ReasonCode } from '../errors.js';
import { reject } from '../http/reject.js';
import { connectTarget, type TargetTlsOptions } from '../relay/connect.js';
import { Relay, combineTaps, trafficTap, type CloseInfo } from '../relay/relay.js';
import type { Recorder } from '../record/recorder.js';
import { extractToken, pathForLog, tokenHash } from '../targets/token.js';
import { describeTarget, type RequestContext, type Target, type TargetResolver } from '../targets/types.js';
import type { RequestPolicy } from '../policy/request-policy.js';
import { chooseSubprotocol, isOriginAllowed, validateHandshake } from './protocol.js';
import { clientCertVerdict, peerLogFields } from '../tls/peer.js';

/** What the pipeline needs from the server that owns it. */
export interface UpgradeDeps {
  readonly config: Config;
  readonly resolver: TargetResolver;
  readonly wss: WebSocketServer;
  /** The protocol chosen for a request, read back by the WebSocketServer's `handleProtocols`. */
  readonly chosenProtocols: WeakMap<IncomingMessage, string>;
  readonly isShuttingDown: () => boolean;
  /** The auth plugin, if one is configured. */
  readonly authenticator: Authenticator | undefined;
  /** Session recorder (`--record`), if recording. */
  readonly recorder: Recorder | undefined;
  /** `--traffic` output, if on. */
  readonly trafficSink: ((chars: string) => void) | undefined;
  /** Called once a session relays (the server tracks it until `relay.done`). */
  readonly onSession: (session: SessionInfo) => void;
  /** Limits and policy (Host allowlist, rate limit, per-token cap, target policy, PROXY header out). */
  readonly policy?: RequestPolicy | undefined;
  /** `--ssl-target`: TLS settings for TCP targets (read once at start), else undefined. */
  readonly targetTls?: TargetTlsOptions | undefined;
  /** Told how long dialling the target took; `failure` is the refusal reason, undefined when it connected (metrics). */
  readonly onTargetConnect?: ((ms: number, failure: ReasonCode | undefined) => void) | undefined;
}

/** A live session as the server tracks it. */
export interface SessionInfo {
  readonly id: number;
  readonly conn: ConnectionContext;
  readonly scheme: 'ws' | 'wss';
  readonly target: string;
  readonly relay: Relay;
  readonly startedAt: Date;
  /** How the target was chosen, so the server can re-check it later (revocation). The token is never logged. */
  readonly resolved?: { readonly token: string | undefined; readonly target: Target; readonly ctx: RequestContext };
  /** Hash of the token that chose the target (never the token itself), if one did. */
  readonly tokenHash?: string | undefined;
}

/** A per-token session slot held by one handshake; kept by the session if it starts, released otherwise. */
interface Slot {
  release?: () => void;
  kept?: boolean;
}

function allLines(req: IncomingMessage, name: string): string[] | undefined {
  return req.headersDistinct[name];
}

/** Builds the `upgrade` handler. `conn` is the connection's context (from server.ts). */
export function createUpgradeHandler(deps: UpgradeDeps) {
  const { config } = deps;
  return async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, conn: ConnectionContext): Promise<void> {
    const slot: Slot = {};
    try {
      await pipeline(req, socket, head, conn, slot);
    } finally {
      if (!slot.kept) slot.release?.();
    }
  };

  async function pipeline(req: IncomingMessage, socket: Duplex, head: Buffer, conn: ConnectionContext, slot: Slot): Promise<void> {
    const scheme = conn.tls ? 'wss' : 'ws';
    const log = conn.log.child({ scheme });
    const tokenFrom = config.targets.kind === 'token' ? config.targets.from : 'query';
    const fields: Record<string, string> = { path: deps.resolver.usesToken ? pathForLog(req.url ?? '', tokenFrom) : (req.url ?? '') };
    // Once upgraded, the HTTP server no longer watches this socket: it needs its own 'error' listener at once.
    let clientGone = false;
    const abort = new AbortController();
    const socketOnError = (err: Error): void => {
      log.debug('client socket error during upgrade', { reason: 'CLIENT_ERROR', error: errnoCode(err) ?? err.message });
    };
    const socketOnClose = (): void => {
      clientGone = true;
      abort.abort();
    };
    socket.on('error', socketOnError);
    socket.once('close', socketOnClose);

    if (deps.isShuttingDown()) {
      reject(socket, 'SHUTTING_DOWN', { log, fields });
      return;
    }
    const refusal = deps.policy?.preflight(req, conn);
    if (refusal) {
      reject(socket, refusal.code, { log, fields: { ...fields, ...refusal.fields }, ...(refusal.message ? { message: refusal.message } : {}), ...(refusal.headers ? { headers: refusal.headers } : {}) });
      return;
    }
    const problem = validateHandshake(req.method, req.headers);
    if (problem) {
      reject(socket, problem.code, { message: problem.message, log, fields, ...(problem.headers ? { headers: problem.headers } : {}) });
      return;
    }
    const choice = chooseSubprotocol(allLines(req, 'sec-websocket-protocol'));
    if (!choice.ok) {
      reject(socket, choice.problem.code, { message: choice.problem.message, log, fields });
      return;
    }
    const origin = req.headers.origin;
    if (!isOriginAllowed(origin, req.headers.host, conn.tls, config.allowOrigins)) {
      reject(socket, 'ORIGIN_FORBIDDEN', {
        message: `Pages from ${origin ?? 'this origin'} may not connect here; start wsproxy with --allow-origin ${origin ?? '<origin>'} to allow them.`,
        log,
        fields: { ...fields, origin },
      });
      return;
    }

    // Client certificates: before the token and the target, so a client without one learns nothing about them.
    const certVerdict = clientCertVerdict(config.tls.clientCert, conn.tls, conn.peer);
    if (!certVerdict.ok) {
      reject(socket, certVerdict.code, { message: certVerdict.message, log, fields: { ...fields, ...peerLogFields(conn.peer) } });
      return;
    }

    let targetText: string;
    let dialled: { socket: Socket; address: string };
    let token: string | undefined;
    let resolved: SessionInfo['resolved'];
    if (deps.resolver.usesToken) {
      token = extractToken(req.url ?? '/', req.headers.host, tokenFrom);
      if (token === undefined) {
        const how = config.targets.kind === 'token' && config.targets.from === 'host' ? 'in the Host name' : config.targets.kind === 'token' && config.targets.from === 'path' ? 'as the last path segment' : 'as ?token=TOKEN in the WebSocket URL';
        reject(socket, 'TOKEN_MISSING', { message: `This proxy needs a token: pass it ${how}.`, log, fields });
        return;
      }
      fields.token_hash = tokenHash(token);
    }
    try {
      const requestCtx: RequestContext = {
        remoteAddress: conn.remoteAddress,
        scheme,
        host: req.headers.host,
        path: req.url ?? '/',
      };
      const resolution = await deps.resolver.resolve(token, requestCtx);
      if (resolution.kind !== 'found') {
        if (token === undefined) reject(socket, 'NOT_FOUND', { message: 'No target for this request.', log, fields });
        else reject(socket, 'TOKEN_UNKNOWN', { log, fields });
        return;
      }
      targetText = describeTarget(resolution.target);
      if (deps.authenticator) {
        // After the token: a plugin may decide per target (websockify's order).
        const decision = await deps.authenticator.check({
          remoteAddress: conn.remoteAddress,
          scheme,
          host: req.headers.host,
          origin: req.headers.origin,
          authorization: req.headers.authorization,
          path: req.url ?? '/',
          target: resolution.target,
          peer: conn.peer,
        });
        if (decision.kind === 'deny') {
          if (clientGone) return;
          reject(socket, decision.status === 401 ? 'AUTH_REQUIRED' : 'AUTH_FORBIDDEN', {
            message: `${REASONS[decision.status === 401 ? 'AUTH_REQUIRED' : 'AUTH_FORBIDDEN'].text} (${decision.reason})`,
            log,
            fields: { ...fields, plugin: deps.authenticator.name },
            ...(decision.headers ? { headers: decision.headers } : {}),
          });
          return;
        }
        if (decision.identity !== undefined) fields.identity = decision.identity;
      }
      if (clientGone) return;
      if (token !== undefined && deps.policy) {
        const taken = await deps.policy.tokenSlot(tokenHash(token), deps.resolver.sessionCounter);
        if (clientGone) {
          if (taken.ok) taken.release();
          return;
        }
        if (!taken.ok) {
          reject(socket, taken.refusal.code, { log, fields: { ...fields, ...taken.refusal.fields } });
          return;
        }
        slot.release = taken.release;
      }
      resolved = { token, target: resolution.target, ctx: requestCtx };
      const dialStart = performance.now();
      dialled = await connectTarget(resolution.target, config.limits.connectTimeoutMs, abort.signal, { ...deps.policy?.dialOptions(conn, resolution.target), tls: deps.targetTls }).then(
        (d) => (deps.onTargetConnect?.(performance.now() - dialStart, undefined), d),
        (err: unknown) => {
          if (err instanceof ProxyError) deps.onTargetConnect?.(performance.now() - dialStart, err.code);
          throw err;
        },
      );
    } catch (err) {
      if (errnoCode(err) === 'ABORTED' || clientGone) {
        log.debug('client left while the target was being connected', { reason: 'CLIENT_GONE' });
        return;
      }
      const pe = err instanceof ProxyError ? err : new ProxyError('TARGET_FAILED', 'connecting to the target failed', { cause: err });
      if (!isHttpReason(pe.code)) throw err;
      // The client gets the catalogue text; the details (internal addresses, API hosts) stay in the log.
      reject(socket, pe.code, { log, fields: { ...fields, detail: pe.message } });
      return;
    }
    if (clientGone || socket.destroyed) {
      dialled.socket.destroy();
      return;
    }

    if (choice.protocol !== undefined) deps.chosenProtocols.set(req, choice.protocol);
    // Our choice is final: ws would parse the raw header again and refuse shapes we accept ('binary,', an empty line)
    // after the target is already connected. Hand it exactly what we decided.
    if (choice.protocol === undefined) delete req.headers['sec-websocket-protocol'];
    else req.headers['sec-websocket-protocol'] = choice.protocol;
    let accepted = false;
    deps.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      accepted = true;
      socket.off('error', socketOnError);
      socket.off('close', socketOnClose);
      const peer = conn.peer?.presented ? conn.peer : undefined;
      const recording = deps.recorder?.open({
        started: new Date().toISOString(),
        client: conn.remoteAddress,
        scheme,
        target: targetText,
        ...(fields.token_hash ? { token_hash: fields.token_hash } : {}),
        ...(fields.identity ? { identity: fields.identity } : {}),
        ...(peer ? { client_certificate: { verified: peer.authorized, subject: peer.subject, cn: peer.cn, sans: peer.sans, issuer: peer.issuer, serial: peer.serial, sha256: peer.fingerprint256, valid_to: peer.validTo } } : {}),
      });
      const taps = [recording?.tap, deps.trafficSink ? trafficTap(deps.trafficSink) : undefined].filter((t) => t !== undefined);
      const relay = new Relay(
        ws,
        dialled.socket,
        { highWaterMark: config.limits.highWaterMark, heartbeatMs: config.limits.heartbeatMs, textFrames: config.textFrames ?? 'reject', base64: choice.protocol === 'base64' },
        taps.length <= 1 ? taps[0] : combineTaps(taps),
      );
      const sessionLog = log.child({
        target: targetText,
        address: dialled.address,
        ...(fields.token_hash ? { token_hash: fields.token_hash } : {}),
        ...(fields.identity ? { identity: fields.identity } : {}),
        ...peerLogFields(conn.peer),
        ...(recording ? { recording: recording.file } : {}),
      });
      sessionLog.debug('session open', { protocol: choice.protocol ?? '' });
      slot.kept = true;
      const release = slot.release;
      if (release) void relay.done.then(() => release());
      deps.onSession({ id: conn.id, conn, scheme, target: targetText, relay, startedAt: new Date(), tokenHash: fields.token_hash, ...(resolved ? { resolved } : {}) });
      void relay.done.then((info: CloseInfo) => {
        sessionLog.info('session closed', {
          reason: info.reason,
          close_code: info.closeCode,
          bytes_from_client: info.bytesFromClient,
          bytes_to_client: info.bytesToClient,
          duration_ms: info.durationMs,
          ...(info.detail === undefined ? {} : { detail: info.detail }),
        });
      });
    });
    // ws completes the upgrade synchronously (no async verifyClient); if it did not, the client socket was already
    // unusable and ws destroyed it. The dialled target must not outlive it.
    if (!accepted) {
      dialled.socket.destroy();
      log.debug('client socket closed before the 101 could be sent', { reason: 'CLIENT_GONE' });
    }
  }
}
