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
import type { Config } from '../config/types.js';
import type { ConnectionContext } from '../context.js';
import type { Authenticator } from '../auth/types.js';
import type { Logger } from '../log.js';
import {
  AbortedError,
  ProxyError,
  REASONS,
  clientFailureReason,
  errnoCode,
  isHttpReason,
  type ReasonCode,
} from '../errors.js';
import { reject } from '../http/reject.js';
import { connectTarget, type TargetTlsOptions } from '../relay/connect.js';
import { Relay, combineTaps, trafficTap, type CloseInfo } from '../relay/relay.js';
import type { Recorder } from '../record/recorder.js';
import type { MessageBudget } from '../relay/message-budget.js';
import { watchReceiver } from './receiver-budget.js';
import { extractToken, hostForLog, pathForLog, tokenHash } from '../targets/token.js';
import { describeTarget, type RequestContext, type Target, type TargetResolver } from '../targets/types.js';
import type { AuthAttempt, RequestPolicy } from '../policy/request-policy.js';
import { chooseSubprotocol, isOriginAllowed, validateHandshake } from './protocol.js';
import { clientCertVerdict, peerLogFields } from '../tls/peer.js';
import { failConnection, logInternalError } from '../boundary.js';
import type { SingleSession } from './single-session.js';

/**
 * What the pipeline needs from the server that owns it. A reload may replace any of these (the server passes getters);
 * each handshake reads them once when it starts and uses that set to the end, so it never mixes two configurations.
 */
export interface UpgradeDeps {
  readonly config: Config;
  readonly resolver: TargetResolver;
  /**
   * Marks `resolver` as in use until the returned function is called (the server closes a replaced token source
   * only once no handshake still uses it).
   */
  readonly holdResolver?: ((resolver: TargetResolver) => () => void) | undefined;
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
  /** Called once a session relays (the server tracks it until `onSessionEnd`). */
  readonly onSession: (session: SessionInfo) => void;
  /** Called once when that session has ended (both sides closed), before its `session closed` line is logged. */
  readonly onSessionEnd: (session: SessionInfo, info: CloseInfo) => void;
  /** Limits and policy (Host allowlist, rate limit, per-token cap, target policy, PROXY header out). */
  readonly policy?: RequestPolicy | undefined;
  /** `--ssl-target`: TLS settings for TCP targets (read once at start), else undefined. */
  readonly targetTls?: TargetTlsOptions | undefined;
  /** The bound on unfinished client messages across sessions (`--max-buffered-total`). */
  readonly messageBudget?: MessageBudget | undefined;
  /** Told how long dialling the target took; `failure` is the refusal reason, undefined when it connected (metrics). */
  readonly onTargetConnect?: ((ms: number, failure: ReasonCode | undefined) => void) | undefined;
  /** `--run-once`: the one session a handshake must claim before it dials the target. */
  readonly singleSession?: SingleSession | undefined;
}

/** A live session as the server tracks it. */
export interface SessionInfo {
  readonly id: number;
  readonly conn: ConnectionContext;
  readonly scheme: 'ws' | 'wss';
  readonly target: string;
  readonly relay: Relay;
  /** When the session started (ms since the epoch: a number, not a 96-byte Date per session). */
  readonly startedAt: number;
  /** How the target was chosen, so the server can re-check it later (revocation). The token is never logged. */
  readonly resolved?: { readonly token: string | undefined; readonly target: Target; readonly ctx: RequestContext };
  /** Hash of the token that chose the target (never the token itself), if one did. */
  readonly tokenHash?: string | undefined;
  /** The token source that admitted the session (its fleet-wide session count, if any, holds the session's slot). */
  readonly resolver?: TargetResolver;
}

/** The parts of {@link UpgradeDeps} a reload may replace, as one handshake saw them when it started. */
interface Current {
  readonly config: Config;
  readonly resolver: TargetResolver;
  readonly authenticator: Authenticator | undefined;
  readonly recorder: Recorder | undefined;
  readonly trafficSink: ((chars: string) => void) | undefined;
  readonly policy: RequestPolicy | undefined;
  readonly targetTls: TargetTlsOptions | undefined;
  readonly wss: WebSocketServer;
}

/**
 * What one handshake holds until it ends: a per-token session slot (kept by the session if it starts, released
 * otherwise) and its token/credential check for the brute-force guard (settled as failed or not).
 */
interface Slot {
  release?: () => void;
  kept?: boolean;
  authAttempt?: AuthAttempt;
  authFailed?: boolean;
  /** This handshake holds the `--run-once` claim. */
  single?: boolean;
  /** The 101 went out: from here on a failure is a WebSocket close, not an HTTP answer. */
  upgraded?: boolean;
}

function allLines(req: IncomingMessage, name: string): string[] | undefined {
  return req.headersDistinct[name];
}

/** What {@link startSession} needs from the handshake that admitted it. */
interface Admitted {
  readonly conn: ConnectionContext;
  readonly scheme: 'ws' | 'wss';
  readonly target: string;
  readonly protocol: string | undefined;
  readonly tokenHash: string | undefined;
  readonly identity: string | undefined;
  readonly resolved: SessionInfo['resolved'];
  readonly slot: Slot;
  /** The token source that admitted the session (a reload may swap in another one while it runs). */
  readonly resolver: SessionInfo['resolver'] | undefined;
}

/**
 * Starts relaying an upgraded connection, and ends its bookkeeping when the relay is done. Deliberately outside the
 * pipeline's scope: what a session keeps alive for its whole life is what this function's one closure captures (the
 * session, its token slot and three strings for its log lines), not the handshake's request, fields, logger and abort
 * controller (issue #6: memory per idle session).
 */
function startSession(
  deps: UpgradeDeps,
  current: Current,
  ws: WebSocket,
  dialled: { socket: Socket; address: string },
  a: Admitted,
): void {
  const { config } = current;
  const { conn } = a;
  const peer = conn.peer?.presented ? conn.peer : undefined;
  const recording = current.recorder?.open({
    started: new Date().toISOString(),
    client: conn.remoteAddress,
    scheme: a.scheme,
    target: a.target,
    ...(a.tokenHash ? { token_hash: a.tokenHash } : {}),
    ...(a.identity ? { identity: a.identity } : {}),
    ...(peer
      ? {
          client_certificate: {
            verified: peer.authorized,
            subject: peer.subject,
            cn: peer.cn,
            sans: peer.sans,
            issuer: peer.issuer,
            serial: peer.serial,
            sha256: peer.fingerprint256,
            valid_to: peer.validTo,
          },
        }
      : {}),
  });
  const taps = [recording?.tap, current.trafficSink ? trafficTap(current.trafficSink) : undefined].filter(
    (t) => t !== undefined,
  );
  const address = dialled.address;
  const identity = a.identity;
  const recordingFile = recording?.file;
  const release = a.slot.release;
  // One callback for the end of the session (token slot, the server's bookkeeping, the log line, in that order),
  // instead of three promise reactions per session.
  const relayOnDone = (info: CloseInfo): void => {
    try {
      release?.();
      deps.onSessionEnd(session, info); // runs once both sides closed: long after `session` below is set
    } finally {
      // Even if the bookkeeping threw (the relay's boundary logs that): every session gets its one closing line.
      sessionLogger(session, address, identity, recordingFile).info('session closed', {
        reason: info.reason,
        close_code: info.closeCode,
        bytes_from_client: info.bytesFromClient,
        bytes_to_client: info.bytesToClient,
        duration_ms: info.durationMs,
        ...(info.detail === undefined ? {} : { detail: info.detail }),
      });
    }
  };
  const relay = new Relay(
    ws,
    dialled.socket,
    {
      highWaterMark: config.limits.highWaterMark,
      heartbeatMs: config.limits.heartbeatMs,
      textFrames: config.textFrames ?? 'reject',
      base64: a.protocol === 'base64',
      onDone: relayOnDone,
      onInternalError: (err) =>
        logInternalError(err, { log: sessionLogger(session, address, identity, recordingFile), where: 'session' }),
    },
    taps.length <= 1 ? taps[0] : combineTaps(taps),
  );
  if (deps.messageBudget) watchReceiver(ws, deps.messageBudget);
  a.slot.kept = true;
  const session: SessionInfo = {
    id: conn.id,
    conn,
    scheme: a.scheme,
    target: a.target,
    relay,
    startedAt: Date.now(),
    tokenHash: a.tokenHash,
    ...(a.resolver ? { resolver: a.resolver } : {}),
    ...(a.resolved ? { resolved: a.resolved } : {}),
  };
  sessionLogger(session, address, identity, recordingFile).debug('session open', { protocol: a.protocol ?? '' });
  try {
    deps.onSession(session);
  } catch (err) {
    relay.fail(err); // the session exists: it ends through its relay, with its one closing line
  }
}

/** A session that failed to start: 1011 to the client, the target cut, one error line. */
function sessionStartFailed(ws: WebSocket, target: Socket, err: unknown, log: Logger): void {
  logInternalError(err, { log, where: 'session start' });
  target.destroy();
  try {
    ws.close(1011, 'Internal error');
  } catch {
    ws.terminate();
  }
}

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

/**
 * The logger of a session's own lines (open, closed): the connection's fields, then the session's. Made for each of
 * the two lines rather than kept for the session's life (issue #6). The same fields as the handshake's logger plus
 * the target: that one is `conn.log.child({ scheme })`.
 */
function sessionLogger(
  session: SessionInfo,
  address: string,
  identity: string | undefined,
  recordingFile: string | undefined,
): Logger {
  return session.conn.log.child({
    scheme: session.scheme,
    target: session.target,
    address,
    ...(session.tokenHash ? { token_hash: session.tokenHash } : {}),
    ...(identity ? { identity } : {}),
    ...peerLogFields(session.conn.peer),
    ...(recordingFile ? { recording: recordingFile } : {}),
  });
}

/** Builds the `upgrade` handler. `conn` is the connection's context (from server.ts). */
export function createUpgradeHandler(deps: UpgradeDeps) {
  return async function handleUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    conn: ConnectionContext,
  ): Promise<void> {
    const slot: Slot = {};
    const current: Current = {
      config: deps.config,
      resolver: deps.resolver,
      authenticator: deps.authenticator,
      recorder: deps.recorder,
      trafficSink: deps.trafficSink,
      policy: deps.policy,
      targetTls: deps.targetTls,
      wss: deps.wss,
    };
    const unhold = deps.holdResolver?.(current.resolver);
    try {
      await pipeline(req, socket, head, conn, slot, current);
    } catch (err) {
      // The error boundary: 500 before the 101; after it the session's own boundary has answered (1011).
      const ctx = { log: conn.log, where: 'upgrade', secret: tokenOf(req, current.config) };
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

  async function pipeline(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    conn: ConnectionContext,
    slot: Slot,
    current: Current,
  ): Promise<void> {
    const { config, resolver, authenticator, policy, targetTls } = current;
    const scheme = conn.tls ? 'wss' : 'ws';
    const log = conn.log.child({ scheme });
    const tokenFrom = config.targets.kind === 'token' ? config.targets.from : 'query';
    const fields: Record<string, string> = {
      path: resolver.usesToken ? pathForLog(req.url ?? '', tokenFrom) : (req.url ?? ''),
    };
    // Once upgraded, the HTTP server no longer watches this socket: it needs its own 'error' listener at once.
    let clientGone = false;
    const abort = new AbortController();
    const socketOnError = (err: Error): void => {
      log.debug('client socket error during upgrade', {
        reason: clientFailureReason(err),
        error: errnoCode(err) ?? err.message,
      });
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
    if (deps.singleSession?.taken) {
      reject(socket, 'RUN_ONCE_BUSY', { log, fields });
      return;
    }
    const refusal = policy?.preflight(req, conn);
    if (refusal) {
      // With --host-token the Host header is the token: it is logged as *** like every other token.
      const host =
        refusal.fields?.['host'] === undefined ? {} : { host: hostForLog(refusal.fields['host'], tokenFrom) };
      reject(socket, refusal.code, {
        log,
        fields: { ...fields, ...refusal.fields, ...host },
        ...(refusal.message ? { message: refusal.message } : {}),
        ...(refusal.headers ? { headers: refusal.headers } : {}),
      });
      return;
    }
    const problem = validateHandshake(req.method, req.headers);
    if (problem) {
      reject(socket, problem.code, {
        message: problem.message,
        log,
        fields,
        ...(problem.headers ? { headers: problem.headers } : {}),
      });
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
      reject(socket, certVerdict.code, {
        message: certVerdict.message,
        log,
        fields: { ...fields, ...peerLogFields(conn.peer) },
      });
      return;
    }

    // Token and credential guessing: refused while this client has failed too often (before anything is looked up).
    if (resolver.usesToken || authenticator) {
      const guard = policy?.authAttempt(conn);
      if (guard && !guard.ok) {
        reject(socket, guard.refusal.code, {
          log,
          fields: { ...fields, ...guard.refusal.fields },
          ...(guard.refusal.headers ? { headers: guard.refusal.headers } : {}),
        });
        return;
      }
      if (guard) slot.authAttempt = guard.attempt;
    }

    let targetText: string;
    let dialled: { socket: Socket; address: string };
    let token: string | undefined;
    let resolved: SessionInfo['resolved'];
    if (resolver.usesToken) {
      token = extractToken(req.url ?? '/', req.headers.host, tokenFrom);
      if (token === undefined) {
        const how =
          config.targets.kind === 'token' && config.targets.from === 'host'
            ? 'in the Host name'
            : config.targets.kind === 'token' && config.targets.from === 'path'
              ? 'as the last path segment'
              : 'as ?token=TOKEN in the WebSocket URL';
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
      const resolution = await resolver.resolve(token, requestCtx);
      if (resolution.kind !== 'found') {
        if (token === undefined) reject(socket, 'NOT_FOUND', { message: 'No target for this request.', log, fields });
        else {
          slot.authFailed = true;
          reject(socket, 'TOKEN_UNKNOWN', { log, fields });
        }
        return;
      }
      targetText = describeTarget(resolution.target);
      if (authenticator) {
        // After the token: a plugin may decide per target (websockify's order).
        const decision = await authenticator.check({
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
          // A 401 to a request that sent no credentials is the usual first step of a login, not a guess.
          slot.authFailed = decision.status !== 401 || req.headers.authorization !== undefined;
          if (clientGone) return;
          reject(socket, decision.status === 401 ? 'AUTH_REQUIRED' : 'AUTH_FORBIDDEN', {
            message: `${REASONS[decision.status === 401 ? 'AUTH_REQUIRED' : 'AUTH_FORBIDDEN'].text} (${decision.reason})`,
            log,
            fields: { ...fields, plugin: authenticator.name },
            ...(decision.headers ? { headers: decision.headers } : {}),
          });
          return;
        }
        if (decision.identity !== undefined) fields.identity = decision.identity;
      }
      if (clientGone) return;
      // Claimed only now: a client that the checks above refuse never holds the one session.
      if (deps.singleSession) {
        if (!deps.singleSession.claim()) {
          reject(socket, 'RUN_ONCE_BUSY', { log, fields });
          return;
        }
        slot.single = true;
      }
      if (token !== undefined && policy) {
        const taken = await policy.tokenSlot(
          resolver.sessionCounter?.nameOf?.(token) ?? tokenHash(token),
          resolver.sessionCounter,
        );
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
      // Only a token can be revoked (the revalidator skips sessions without one): nothing is kept for the others.
      if (token !== undefined) resolved = { token, target: resolution.target, ctx: requestCtx };
      const dialStart = performance.now();
      dialled = await connectTarget(resolution.target, config.limits.connectTimeoutMs, abort.signal, {
        ...policy?.dialOptions(conn, resolution.target),
        tls: targetTls,
        readBytes: config.limits.highWaterMark,
      }).then(
        (d) => (deps.onTargetConnect?.(performance.now() - dialStart, undefined), d),
        (err: unknown) => {
          if (err instanceof AbortedError) throw err;
          // Whatever dialling throws is a failed connect; a throw anywhere else in this block is the boundary's.
          const pe =
            err instanceof ProxyError
              ? err
              : new ProxyError('TARGET_FAILED', 'connecting to the target failed', { cause: err });
          deps.onTargetConnect?.(performance.now() - dialStart, pe.code);
          throw pe;
        },
      );
    } catch (err) {
      if (err instanceof AbortedError || clientGone) {
        log.debug('client left while the target was being connected', { reason: 'CLIENT_LEFT_UPGRADE' });
        return;
      }
      if (!(err instanceof ProxyError) || !isHttpReason(err.code)) throw err;
      // The client gets the catalogue text; the details (internal addresses, API hosts) stay in the log.
      reject(socket, err.code, { log, fields: { ...fields, detail: err.message } });
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
    current.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      accepted = true;
      slot.upgraded = true;
      socket.off('error', socketOnError);
      socket.off('close', socketOnClose);
      try {
        startSession(deps, current, ws, dialled, {
          conn,
          resolver,
          scheme,
          target: targetText,
          protocol: choice.protocol,
          tokenHash: fields.token_hash,
          identity: fields.identity,
          resolved,
          slot,
        });
      } catch (err) {
        sessionStartFailed(ws, dialled.socket, err, log);
      }
    });
    // ws completes the upgrade synchronously (no async verifyClient); if it did not, the client socket was already
    // unusable and ws destroyed it. The dialled target must not outlive it.
    if (!accepted) {
      dialled.socket.destroy();
      log.debug('client socket closed before the 101 could be sent', { reason: 'CLIENT_LEFT_UPGRADE' });
    }
  }
}
