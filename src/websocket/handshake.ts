/**
 * The types the upgrade pipeline shares between its steps (upgrade.ts, admit.ts, session.ts): what it needs from the
 * server for its whole life (`UpgradeDeps`), what a reload may replace (`UpgradeRuntime`, one snapshot per
 * handshake), what one handshake carries from step to step (`Handshake`), and a live session (`SessionInfo`).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import type { Config } from '../config/types.js';
import type { ConnectionContext } from '../context.js';
import type { Authenticator } from '../auth/types.js';
import type { Logger } from '../log.js';
import type { ReasonCode } from '../errors.js';
import type { TargetTlsOptions } from '../relay/connect.js';
import type { CloseInfo, Relay } from '../relay/relay.js';
import type { Recorder } from '../record/recorder.js';
import type { MessageBudget } from '../relay/message-budget.js';
import type { TokenFrom } from '../targets/token.js';
import type { RequestContext, Target, TargetResolver } from '../targets/types.js';
import type { AuthAttempt, RequestPolicy } from '../policy/request-policy.js';
import type { SingleSession } from './single-session.js';

/** What the pipeline needs from the server that owns it, the same for the server's whole life. */
export interface UpgradeDeps {
  /**
   * Marks `resolver` as in use until the returned function is called (the server closes a replaced token source
   * only once no handshake still uses it).
   */
  readonly holdResolver?: ((resolver: TargetResolver) => () => void) | undefined;
  /** The protocol chosen for a request, read back by the WebSocketServer's `handleProtocols`. */
  readonly chosenProtocols: WeakMap<IncomingMessage, string>;
  readonly isShuttingDown: () => boolean;
  /** Called once a session relays (the server tracks it until `onSessionEnd`). */
  readonly onSession: (session: SessionInfo) => void;
  /** Called once when that session has ended (both sides closed), before its `session closed` line is logged. */
  readonly onSessionEnd: (session: SessionInfo, info: CloseInfo) => void;
  /** The bound on unfinished client messages across sessions (`maxBufferedTotal`). */
  readonly messageBudget?: MessageBudget | undefined;
  /** Told how long dialling the target took; `failure` is the refusal reason, undefined when it connected (metrics). */
  readonly onTargetConnect?: ((ms: number, failure: ReasonCode | undefined) => void) | undefined;
  /** `runOnce`: the one session a handshake must claim before it dials the target. */
  readonly singleSession?: SingleSession | undefined;
}

/**
 * What a reload may replace, as one handshake sees it: the server passes its current snapshot with each upgrade, and
 * the handshake uses that one to the end, so it never mixes two configurations.
 */
export interface UpgradeRuntime {
  readonly config: Config;
  readonly resolver: TargetResolver;
  /** The auth plugin, if one is configured. */
  readonly authenticator: Authenticator | undefined;
  /** Session recorder (`record`), if recording. */
  readonly recorder: Recorder | undefined;
  /** `traffic` output, if on. */
  readonly trafficSink: ((chars: string) => void) | undefined;
  /** Limits and policy (Host allowlist, rate limit, per-token cap, target policy, PROXY header out). */
  readonly policy: RequestPolicy | undefined;
  /** `sslTarget`: TLS settings for TCP targets, else undefined. */
  readonly targetTls: TargetTlsOptions | undefined;
  readonly wss: WebSocketServer;
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

/**
 * What one handshake holds until it ends: a per-token session slot (kept by the session if it starts, released
 * otherwise) and its token/credential check for the brute-force guard (settled as failed or not).
 */
export interface Slot {
  release?: () => void;
  kept?: boolean;
  authAttempt?: AuthAttempt;
  authFailed?: boolean;
  /** This handshake holds the `runOnce` claim. */
  single?: boolean;
  /** The 101 went out: from here on a failure is a WebSocket close, not an HTTP answer. */
  upgraded?: boolean;
}

/** One handshake as its steps pass it on: the request, its snapshot and what the earlier steps found. */
export interface Handshake {
  readonly req: IncomingMessage;
  readonly socket: Duplex;
  readonly conn: ConnectionContext;
  readonly runtime: UpgradeRuntime;
  readonly slot: Slot;
  readonly scheme: 'ws' | 'wss';
  readonly log: Logger;
  readonly tokenFrom: TokenFrom;
  /** Fields of the refusal lines (path, then token_hash and identity once known). */
  readonly fields: Record<string, string>;
  /** Aborted when the client socket closes before the 101. */
  readonly abort: AbortController;
  /** Drops the handshake's socket listeners: from the 101 on, the relay watches the socket. */
  readonly detach: () => void;
}

/** What the admit step found: the target, and what the session keeps of how it was chosen. */
export interface Admitted {
  readonly target: Target;
  readonly token: string | undefined;
  readonly resolved: SessionInfo['resolved'];
}
