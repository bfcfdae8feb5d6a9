/**
 * The pump: WebSocket ⇄ TCP with backpressure both ways.
 *
 * - Every read from the target becomes one binary message. When the bytes handed to the WebSocket but not yet flushed
 *   to the client's socket pass the high-water mark, the target is paused until they drain.
 * - Every binary message is written to the target. When the target's write buffer is full (`write()` returns false),
 *   the WebSocket is paused (no more frames are read) until the target drains.
 * - Close semantics: target EOF → queued data, then 1000 "Target closed"; client close → every byte received before
 *   the close frame reaches the target, then the target gets EOF; target error → 1011; text frame → 1003; a message
 *   over the size limit → 1009 (ws checks the frame header, nothing is buffered).
 */
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import { closeCodeOf, type ReasonCode } from '../errors.js';
import { decodeBase64Message } from './base64.js';
import { BAD_BASE64_CLOSE, TEXT_FRAME_CLOSE, clientCloseReason, wsErrorReason } from './close-reasons.js';
import { attachSharedListeners, startHeartbeat, type RelayEvents } from './listeners.js';
import { targetReadPool } from './read-pool.js';

/** How a session ended. */
export interface CloseInfo {
  readonly reason: ReasonCode;
  /** Close code sent to or received from the client (1006 when the connection just dropped). */
  readonly closeCode: number;
  readonly bytesFromClient: number;
  readonly bytesToClient: number;
  readonly durationMs: number;
  /** Error text of the side that failed, if one did (never contains payload). */
  readonly detail?: string;
}

/** Observer of the byte stream (recording, traffic traces), on the hot path. Target chunks are reused: copy to keep. */
export interface RelayTap {
  onClientData?(chunk: Buffer, ms: number): void;
  onTargetData?(chunk: Buffer, ms: number): void;
  onClose?(info: CloseInfo): void;
}

/** Tuning of one relay. */
export interface RelayOptions {
  /** Bytes waiting for one side at which the other side is paused. */
  readonly highWaterMark: number;
  /** Ping interval in ms; 0 = no heartbeat. */
  readonly heartbeatMs: number;
  /** Text frames: close 1003 (websockify) or relay their bytes. */
  readonly textFrames?: 'reject' | 'binary';
  /**
   * The legacy `base64` subprotocol was chosen: bytes go to the client as text frames of base64, and text frames from
   * the client are decoded (binary frames are taken as they are). Taps and counters still see the raw bytes.
   */
  readonly base64?: boolean;
  /**
   * Called once when both sides are closed (after the tap's `onClose`, when `done` settles). The server's bookkeeping
   * goes here rather than through `done.then(…)`, so an idle session carries no promise (issue #6).
   */
  readonly onDone?: (info: CloseInfo) => void;
  /**
   * The session's error boundary: told what one of its event handlers (or a tap) threw, once; the session then ends
   * with 1011 `INTERNAL_ERROR` and the process goes on. Logs the error line.
   */
  readonly onInternalError?: (err: unknown) => void;
}

/** Several taps as one. */
export function combineTaps(taps: readonly RelayTap[]): RelayTap {
  return {
    onClientData: (c, ms) => taps.forEach((t) => t.onClientData?.(c, ms)),
    onTargetData: (c, ms) => taps.forEach((t) => t.onTargetData?.(c, ms)),
    onClose: (info) => taps.forEach((t) => t.onClose?.(info)),
  };
}

/** websockify's `traffic` legend: `{` target read, `<` client write, `}` client read, `>` target write. */
export function trafficTap(write: (chars: string) => void): RelayTap {
  return { onTargetData: () => write('{<'), onClientData: () => write('}>') };
}

/** Live numbers of one session. */
export interface RelayStats {
  readonly bytesFromClient: number;
  readonly bytesToClient: number;
  /** Bytes accepted from the target and not yet flushed to the client socket. */
  readonly bufferedToClient: number;
  /** Bytes written towards the target and not yet flushed. */
  readonly bufferedToTarget: number;
  /** Bytes read from the target socket that the relay has not taken yet. */
  readonly unreadFromTarget: number;
  readonly targetPaused: boolean;
  readonly clientPaused: boolean;
}

// After the client is gone and the target got EOF, how long the target may take to close its side.
const TARGET_LINGER_MS = 10_000;

function toBuffer(data: RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
}

/** Relays one session; `done` settles once both sides are closed. */
export class Relay implements RelayEvents {
  private bytesFromClient = 0;
  private bytesToClient = 0;
  private inFlightToClient = 0;
  private targetPaused = false;
  private clientPaused = false;
  private reason: ReasonCode | undefined;
  private closeCode = 1006;
  private detail: string | undefined;
  private wsClosed = false;
  private targetClosed = false;
  private lingerTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private pongDue = false;
  private readonly highWaterMark: number;
  private readonly textFramesAsBinary: boolean;
  private readonly started = performance.now();
  private readonly onDone: ((info: CloseInfo) => void) | undefined;
  private readonly onInternalError: ((err: unknown) => void) | undefined;
  private failed = false;
  // `done` is made when first asked for (shutdown, tests): a promise and its resolvers per idle session cost ~250 B.
  private closeInfo: CloseInfo | undefined;
  private donePromise: Promise<CloseInfo> | undefined;
  private resolveDone: ((info: CloseInfo) => void) | undefined;

  /** Settles when the client connection and the target socket are both closed. */
  get done(): Promise<CloseInfo> {
    if (this.donePromise === undefined) {
      const info = this.closeInfo;
      this.donePromise =
        info === undefined ? new Promise((resolve) => (this.resolveDone = resolve)) : Promise.resolve(info);
    }
    return this.donePromise;
  }

  constructor(
    private readonly ws: WebSocket,
    private readonly target: Socket,
    options: RelayOptions,
    private readonly tap?: RelayTap,
  ) {
    this.highWaterMark = options.highWaterMark;
    this.textFramesAsBinary = options.textFrames === 'binary';
    this.onDone = options.onDone;
    this.onInternalError = options.onInternalError;
    // The end-of-life, backpressure and pong listeners are shared by all relays and find theirs through the emitter.
    // Unlike websockify, pongs are checked: a client that has not answered the last ping by the next one is gone.
    attachSharedListeners(this, ws, target, options.heartbeatMs > 0);
    if (options.heartbeatMs > 0) this.heartbeatTimer = startHeartbeat(this, options.heartbeatMs);
    // Separate handlers for base64 sessions, so binary sessions pay nothing for them.
    target.on('data', options.base64 ? this.targetOnDataBase64 : this.targetOnData);
    ws.on('message', options.base64 ? this.wsOnMessageBase64 : this.wsOnMessage);
    target.resume();
  }

  /** Current counters and buffer levels. */
  stats(): RelayStats {
    return {
      bytesFromClient: this.bytesFromClient,
      bytesToClient: this.bytesToClient,
      bufferedToClient: this.inFlightToClient,
      bufferedToTarget: this.target.writableLength,
      unreadFromTarget: this.target.readableLength,
      targetPaused: this.targetPaused,
      clientPaused: this.clientPaused,
    };
  }

  /** Ends the session from the server side (shutdown): close `code` to the client, EOF to the target. */
  close(reason: ReasonCode, code: number, text: string): void {
    this.finish(reason, code, text);
  }

  /**
   * Cuts both sides at once (shutdown deadline passed) and ends the session now: the sockets' 'close' events come
   * later, maybe after the process has exited, and the session must still get its one closing line and count.
   */
  terminate(): void {
    this.reason ??= 'SERVER_SHUTDOWN';
    this.ws.terminate();
    this.target.destroy();
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.lingerTimer);
    this.wsClosed = true;
    this.targetClosed = true;
    this.settle();
  }

  /** @internal One heartbeat tick (run by the shared timer callback inside the error boundary). */
  beat(): void {
    if (this.wsClosed) return;
    if (this.pongDue) {
      this.reason ??= 'HEARTBEAT_TIMEOUT';
      this.closeCode = 1006;
      this.ws.terminate();
      return;
    }
    this.pongDue = true;
    this.ws.ping();
  }

  /** @internal Called by the shared listener `relayWsOnPong`. */
  wsOnPong(): void {
    this.pongDue = false;
  }

  // A target chunk may be pooled (read-pool.ts): it goes back once nothing reads it again, i.e. when ws calls back for
  // its write (written or failed), or at once when it is dropped or base64-encoded.
  private readonly targetOnData = (chunk: Buffer): void => {
    if (this.wsClosed || this.ws.readyState !== this.ws.OPEN) return targetReadPool.release(chunk); // client gone
    const n = chunk.length;
    this.bytesToClient += n;
    try {
      this.tap?.onTargetData?.(chunk, performance.now() - this.started);
      this.sendToClient(chunk, n, true);
    } catch (err) {
      this.fail(err);
    }
  };

  /** Queues one message to the client; the target is paused while `highWaterMark` or more bytes are in flight. */
  private sendToClient(payload: Buffer | string, queued: number, binary: boolean): void {
    this.inFlightToClient += queued;
    this.ws.send(payload, { binary }, () => {
      if (binary) targetReadPool.release(payload as Buffer);
      this.inFlightToClient -= queued;
      if (this.targetPaused && this.inFlightToClient < this.highWaterMark) {
        this.targetPaused = false;
        this.target.resume();
      }
    });
    if (this.inFlightToClient >= this.highWaterMark && !this.targetPaused) {
      this.targetPaused = true;
      this.target.pause();
    }
  }

  private readonly targetOnDataBase64 = (chunk: Buffer): void => {
    if (this.wsClosed || this.ws.readyState !== this.ws.OPEN) return targetReadPool.release(chunk);
    this.bytesToClient += chunk.length;
    try {
      this.tap?.onTargetData?.(chunk, performance.now() - this.started);
      const text = chunk.toString('base64');
      targetReadPool.release(chunk); // the text is a copy
      // Backpressure counts what is queued on the socket: the encoded length.
      this.sendToClient(text, text.length, false);
    } catch (err) {
      this.fail(err);
    }
  };

  private readonly wsOnMessageBase64 = (data: RawData, isBinary: boolean): void => {
    if (this.reason !== undefined) return;
    try {
      const raw = toBuffer(data);
      const chunk = isBinary ? raw : decodeBase64Message(raw);
      // RFC 6455 §7.4.1: 1007, data inconsistent with the type of the message.
      if (chunk === undefined) this.finish('BAD_BASE64', 1007, BAD_BASE64_CLOSE);
      else this.toTarget(chunk);
    } catch (err) {
      this.fail(err);
    }
  };

  private readonly wsOnMessage = (data: RawData, isBinary: boolean): void => {
    if (this.reason !== undefined) return; // closing: nothing more goes to the target
    try {
      if (!isBinary && !this.textFramesAsBinary) this.finish('TEXT_FRAME', 1003, TEXT_FRAME_CLOSE);
      else this.toTarget(toBuffer(data));
    } catch (err) {
      this.fail(err);
    }
  };

  /** Writes one client message to the target; the client is paused while the target's write buffer is full. */
  private toTarget(chunk: Buffer): void {
    this.bytesFromClient += chunk.length;
    this.tap?.onClientData?.(chunk, performance.now() - this.started);
    if (!this.target.write(chunk) && !this.clientPaused) {
      this.clientPaused = true;
      this.ws.pause();
    }
  }

  /** @internal Called by the shared listener `relayTargetOnDrain`. */
  targetOnDrain(): void {
    if (this.clientPaused) {
      this.clientPaused = false;
      this.ws.resume();
    }
  }

  /** @internal Called by the shared listener `relayTargetOnEnd`. */
  targetOnEnd(): void {
    // 'end' follows the last 'data': everything the target sent is queued on the WebSocket before the close frame.
    this.finish('TARGET_CLOSED', 1000, 'Target closed');
  }

  /** @internal Called by the shared listener `relayTargetOnError`. */
  targetOnError(err: Error): void {
    this.detail ??= (err as NodeJS.ErrnoException).code ?? err.message;
    this.finish('TARGET_ERROR', 1011, 'Target connection failed');
    this.target.destroy();
  }

  /** @internal Called by the shared listener `relayTargetOnClose`. */
  targetOnClose(): void {
    this.targetClosed = true;
    clearTimeout(this.lingerTimer);
    // Closed without EOF or error (destroyed): the session cannot go on.
    this.finish('TARGET_ERROR', 1011, 'Target connection closed');
    this.settle();
  }

  /** @internal Called by the shared listener `relayWsOnError`. */
  wsOnError(err: Error): void {
    // ws has already sent the matching close frame (1002, 1007, 1009, …); 'close' follows.
    const code = (err as NodeJS.ErrnoException).code ?? '';
    this.detail ??= code || err.message;
    if (this.reason !== undefined) return;
    this.reason = wsErrorReason(code);
    this.closeCode = closeCodeOf(this.reason) ?? 1006;
  }

  /** @internal Called by the shared listener `relayWsOnClose`. */
  wsOnClose(code: number): void {
    this.wsClosed = true;
    clearInterval(this.heartbeatTimer);
    if (this.reason === undefined) {
      this.reason = clientCloseReason(code);
      this.closeCode = code;
    }
    if (this.clientPaused) {
      this.clientPaused = false; // nothing more will come from the client
    }
    // Every message before the close frame has been written; end() flushes them, then sends EOF.
    if (!this.targetClosed) {
      this.target.end();
      if (this.targetPaused) this.target.resume(); // keep reading (and discarding) so the target's close arrives
      this.lingerTimer = setTimeout(() => this.target.destroy(), TARGET_LINGER_MS);
      this.lingerTimer.unref();
    }
    this.settle();
  }

  /**
   * @internal The session's error boundary: what one of its handlers threw ends it with 1011 `INTERNAL_ERROR` (the
   * target is cut: its state is unknown). Once; a session already ending keeps its reason.
   */
  fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    try {
      this.onInternalError?.(err);
    } catch {
      // Writing the error line failed too; the session still ends below.
    }
    this.detail ??= 'internal error';
    try {
      this.finish('INTERNAL_ERROR', 1011, 'Internal error');
    } catch {
      this.ws.terminate(); // the close frame could not be sent: cut the client instead
    }
    if (!this.targetClosed) this.target.destroy();
  }

  /** Starts the end of the session once; later causes do not overwrite the first. */
  private finish(reason: ReasonCode, code: number, text: string): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.closeCode = code;
    if (!this.wsClosed && this.ws.readyState === this.ws.OPEN) this.ws.close(code, text);
    if (reason !== 'TARGET_CLOSED' && reason !== 'TARGET_ERROR' && !this.targetClosed) this.target.end();
  }

  private settle(): void {
    // Once: after terminate() the sockets' own 'close' events still arrive.
    if (!this.wsClosed || !this.targetClosed || this.closeInfo !== undefined) return;
    const info: CloseInfo = {
      reason: this.reason ?? 'CLIENT_GONE',
      closeCode: this.closeCode,
      bytesFromClient: this.bytesFromClient,
      bytesToClient: this.bytesToClient,
      durationMs: Math.round(performance.now() - this.started),
      ...(this.detail === undefined ? {} : { detail: this.detail }),
    };
    this.closeInfo = info;
    try {
      this.tap?.onClose?.(info);
    } catch (err) {
      this.fail(err); // logged; the session's end is still reported below
    }
    this.resolveDone?.(info);
    this.onDone?.(info);
  }
}
