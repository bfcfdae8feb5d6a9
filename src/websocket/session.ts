/**
 * The end of the upgrade pipeline: a WebSocket and a dialled target become one relaying session, tracked by the
 * server until the relay is done, with one `session open` and one `session closed` line.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { ConnectionContext } from '../context.js';
import type { Logger } from '../log.js';
import { Relay, combineTaps, trafficTap, type CloseInfo } from '../relay/relay.js';
import { watchReceiver } from './receiver-budget.js';
import { peerLogFields, type PeerIdentity } from '../tls/peer.js';
import { logInternalError } from '../boundary.js';
import type { SessionInfo, Slot, UpgradeDeps, UpgradeRuntime } from './handshake.js';

/** What {@link startSession} needs from the handshake that admitted it. */
export interface SessionStart {
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

/** The `client_certificate` entry of a recording's header, when the client presented one. */
function recordedPeer(peer: PeerIdentity | undefined) {
  if (!peer?.presented) return {};
  return {
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
  };
}

/** Starts the session's recording (`record`), headed with who connected where. */
function openRecording(runtime: UpgradeRuntime, a: SessionStart) {
  return runtime.recorder?.open({
    started: new Date().toISOString(),
    client: a.conn.remoteAddress,
    scheme: a.scheme,
    target: a.target,
    ...(a.tokenHash ? { token_hash: a.tokenHash } : {}),
    ...(a.identity ? { identity: a.identity } : {}),
    ...recordedPeer(a.conn.peer),
  });
}

/**
 * Starts relaying an upgraded connection, and ends its bookkeeping when the relay is done. Deliberately outside the
 * pipeline's scope: what a session keeps alive for its whole life is what this function's one closure captures (the
 * session, its token slot and three strings for its log lines), not the handshake's request, fields, logger and abort
 * controller (issue #6: memory per idle session).
 */
export function startSession(
  deps: UpgradeDeps,
  runtime: UpgradeRuntime,
  ws: WebSocket,
  dialled: { socket: Socket; address: string },
  a: SessionStart,
): void {
  const { config } = runtime;
  const { conn } = a;
  const recording = openRecording(runtime, a);
  const taps = [recording?.tap, runtime.trafficSink ? trafficTap(runtime.trafficSink) : undefined].filter(
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
export function sessionStartFailed(ws: WebSocket, target: Socket, err: unknown, log: Logger): void {
  logInternalError(err, { log, where: 'session start' });
  target.destroy();
  try {
    ws.close(1011, 'Internal error');
  } catch {
    ws.terminate();
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
