/**
 * A cut-through parser of client→server WebSocket frames (RFC 6455, no extensions: permessage-deflate is off in
 * wsproxy). It is fed the raw socket's chunks, split anywhere, unmasks each payload in place and hands it on as views
 * of the chunk as it arrives: no message is reassembled and nothing is copied, so a session holds at most one frame
 * header (≤ 14 bytes) and one control payload (≤ 125 bytes) between chunks, whatever the size of its messages.
 *
 * Every fault ends the stream with the close code, error code and text ws's Receiver gives for the same bytes, and at
 * the same byte: a header fault once its first two bytes are in, a length fault once the length is in, an invalid
 * close frame once its payload is in, too many fragments or invalid UTF-8 text once the frame carrying it is complete
 * (for text, the last frame of the message: ws judges the whole message). Text is validated as it streams, and no
 * byte of an invalid text message is handed on past the first piece that breaks it.
 *
 * Hot path: one object per session, a sink with methods (no closures, nothing allocated per frame but the views).
 */
import { closePayloadError, NO_STATUS } from './close-frame.js';
import {
  CONTROL_NOT_FIN,
  INVALID_UTF8,
  invalidControlLength,
  invalidOpcode,
  LENGTH_OVER_2_53,
  MESSAGE_TOO_BIG,
  NOT_MASKED,
  RSV_1_SET,
  RSV_2_3_SET,
  TOO_MANY_FRAGMENTS,
  type FrameError,
} from './frame-error.js';
import { unmaskInPlace } from './unmask.js';
import { UTF8_ACCEPT, UTF8_REJECT, validateUtf8 } from './utf8.js';

/**
 * Where the parser delivers a stream. Called synchronously from {@link FrameParser.push}; a buffer handed over is
 * valid during the call only when it is a control payload (it may be the parser's own, reused), while data slices are
 * views of the pushed chunk and live as long as it does.
 */
export interface FrameSink {
  /** A data message begins (its first frame's header is in); `text` for a text message. */
  onMessageStart(text: boolean): void;
  /** The next unmasked payload bytes of the current message: a view of the pushed chunk, never empty. */
  onData(slice: Buffer): void;
  /** The current message is complete (and, for text, valid UTF-8 as a whole). */
  onMessageEnd(text: boolean): void;
  onPing(payload: Buffer): void;
  onPong(payload: Buffer): void;
  /** A valid close frame; `code` is 1005 (and `reason` empty) when it had no payload. The parser then stops. */
  onClose(code: number, reason: Buffer): void;
  /** The stream is invalid: fail it with `error.closeCode`. The parser then stops. */
  onError(error: FrameError): void;
}

export interface FrameParserOptions {
  /** The most payload bytes one message may have, fragments summed (ws's `maxPayload`); 0 = no limit. */
  readonly maxPayload: number;
  /** The most frames one message may have (ws's `maxFragments`, 16384 in its server); 0 = no limit. */
  readonly maxFragments?: number;
}

// What the next byte is.
const HEADER = 0;
const DATA = 1;
const CONTROL = 2;
const STOPPED = 3;

const EMPTY = Buffer.alloc(0);
// A header, or a control payload, cut by a chunk boundary waits here (never both at once).
const HOLD_SIZE = 125;
// 2^53 - 1 is the longest length a frame may state (ws): the upper 32 bits of a 64-bit length at most 2^21 - 1.
const MAX_HIGH_WORD = 0x1fffff;

/** Header bytes (2, extended length, 4 of mask) given the second byte. */
function headerSize(b1: number): number {
  const len7 = b1 & 0x7f;
  return len7 === 126 ? 8 : len7 === 127 ? 14 : 6;
}

export class FrameParser {
  private state = HEADER;
  private hold: Buffer | undefined; // allocated the first time something is cut by a chunk boundary
  private held = 0; // bytes of the current header or control payload in `hold`
  // The current frame.
  private fin = false;
  private opcode = 0; // a continuation frame takes its message's opcode
  private len7 = 0;
  private remaining = 0; // payload bytes still to come
  private key = 0; // masking key, big-endian
  private phase = 0; // which byte of the key the next payload byte takes
  // The current data message (messageOpcode 0: between messages).
  private messageOpcode = 0;
  private total = 0; // payload bytes stated so far, fragments summed
  private fragments = 0;
  private utf8 = UTF8_ACCEPT;
  private readonly maxPayload: number;
  private readonly maxFragments: number;

  constructor(
    private readonly sink: FrameSink,
    options: FrameParserOptions,
  ) {
    this.maxPayload = options.maxPayload;
    this.maxFragments = options.maxFragments ?? 0;
  }

  /** False once the stream is over: a close frame, a fault, or {@link stop}. */
  get active(): boolean {
    return this.state !== STOPPED;
  }

  /** Ignores everything from now on (the caller is closing), including the rest of the chunk being parsed. */
  stop(): void {
    this.state = STOPPED;
  }

  /**
   * Parses one chunk of the stream, unmasking its payload bytes in place, and calls the sink for what it completes.
   * Returns {@link active}: once false, the rest of the chunk and later ones are ignored.
   */
  push(chunk: Buffer): boolean {
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      if (this.state === DATA) pos = this.readData(chunk, pos, end);
      else if (this.state === HEADER) pos = this.readHeader(chunk, pos, end);
      else if (this.state === CONTROL) pos = this.readControl(chunk, pos, end);
      else return false;
    }
    return this.state !== STOPPED;
  }

  private readHeader(chunk: Buffer, pos: number, end: number): number {
    if (this.held === 0 && end - pos >= 2) {
      const size = headerSize(chunk[pos + 1] as number);
      if (end - pos >= size) {
        // The whole header is in this chunk (the usual case).
        if (this.firstBytes(chunk[pos] as number, chunk[pos + 1] as number) && this.length(chunk, pos + 2)) {
          this.key = chunk.readUInt32BE(pos + size - 4);
          this.beginPayload();
        }
        return pos + size;
      }
    }
    return this.holdHeader(chunk, pos, end);
  }

  /** Collects a header cut by a chunk boundary, judging each part as soon as it is in, as ws does. */
  private holdHeader(chunk: Buffer, pos: number, end: number): number {
    const hold = (this.hold ??= Buffer.allocUnsafeSlow(HOLD_SIZE));
    while (pos < end) {
      hold[this.held++] = chunk[pos++] as number;
      const held = this.held;
      if (held < 2) continue;
      if (held === 2 && !this.firstBytes(hold[0] as number, hold[1] as number)) return pos;
      const size = headerSize(hold[1] as number);
      if (held === size - 4 && !this.length(hold, 2)) return pos;
      if (held === size) {
        this.held = 0;
        this.key = hold.readUInt32BE(size - 4);
        this.beginPayload();
        return pos;
      }
    }
    return pos;
  }

  /** Judges the first two header bytes, in ws's order of checks. */
  private firstBytes(b0: number, b1: number): boolean {
    if ((b0 & 0x30) !== 0) return this.fail(RSV_2_3_SET);
    if ((b0 & 0x40) !== 0) return this.fail(RSV_1_SET);
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    const len7 = b1 & 0x7f;
    if (opcode === 0) {
      if (this.messageOpcode === 0) return this.fail(invalidOpcode(0));
      this.opcode = this.messageOpcode;
    } else if (opcode === 1 || opcode === 2) {
      if (this.messageOpcode !== 0) return this.fail(invalidOpcode(opcode));
      this.opcode = opcode;
    } else if (opcode >= 8 && opcode <= 10) {
      if (!fin) return this.fail(CONTROL_NOT_FIN);
      if (len7 > 125 || (opcode === 8 && len7 === 1)) return this.fail(invalidControlLength(len7));
      this.opcode = opcode;
    } else {
      return this.fail(invalidOpcode(opcode));
    }
    if ((b1 & 0x80) === 0) return this.fail(NOT_MASKED);
    this.fin = fin;
    this.len7 = len7;
    return true;
  }

  /** Reads the payload length (extended at `at`) and judges it against the limits. */
  private length(buf: Buffer, at: number): boolean {
    let length = this.len7;
    if (length === 126) {
      length = buf.readUInt16BE(at);
    } else if (length === 127) {
      const high = buf.readUInt32BE(at);
      if (high > MAX_HIGH_WORD) return this.fail(LENGTH_OVER_2_53);
      length = high * 2 ** 32 + buf.readUInt32BE(at + 4);
    }
    this.remaining = length;
    if (length > 0 && this.opcode < 8) {
      this.total += length;
      if (this.maxPayload > 0 && this.total > this.maxPayload) return this.fail(MESSAGE_TOO_BIG);
    }
    return true;
  }

  /** The header is complete: start the payload (or finish a frame without one). */
  private beginPayload(): void {
    this.phase = 0;
    if (this.opcode >= 8) {
      if (this.remaining === 0) this.control(EMPTY);
      else this.state = CONTROL;
      return;
    }
    if (this.messageOpcode === 0) {
      this.messageOpcode = this.opcode;
      this.utf8 = UTF8_ACCEPT;
      this.sink.onMessageStart(this.opcode === 1);
      if (this.state === STOPPED) return;
    }
    if (this.remaining === 0) this.endDataFrame();
    else this.state = DATA;
  }

  private readData(chunk: Buffer, pos: number, end: number): number {
    const n = Math.min(this.remaining, end - pos);
    const slice = n === end ? chunk : chunk.subarray(pos, pos + n);
    unmaskInPlace(slice, this.key, this.phase);
    this.phase = (this.phase + n) & 3;
    this.remaining -= n;
    if (this.opcode === 2) {
      this.sink.onData(slice);
    } else if (this.utf8 !== UTF8_REJECT) {
      // Invalid text is failed at the message's end, like ws; meanwhile none of it goes on.
      this.utf8 = validateUtf8(this.utf8, chunk, pos, pos + n);
      if (this.utf8 !== UTF8_REJECT) this.sink.onData(slice);
    }
    if (this.remaining === 0 && this.state === DATA) this.endDataFrame();
    return pos + n;
  }

  private endDataFrame(): void {
    if (this.maxFragments > 0 && ++this.fragments > this.maxFragments) {
      this.fail(TOO_MANY_FRAGMENTS);
      return;
    }
    this.state = HEADER;
    if (!this.fin) return;
    const text = this.opcode === 1;
    if (text && this.utf8 !== UTF8_ACCEPT) {
      this.fail(INVALID_UTF8); // an invalid byte, or the message ends inside a character
      return;
    }
    this.messageOpcode = 0;
    this.total = 0;
    this.fragments = 0;
    this.sink.onMessageEnd(text);
  }

  private readControl(chunk: Buffer, pos: number, end: number): number {
    const n = Math.min(this.remaining, end - pos);
    this.remaining -= n;
    if (this.held === 0 && this.remaining === 0) {
      // The whole payload is in this chunk: unmask it where it is.
      const payload = chunk.subarray(pos, pos + n);
      unmaskInPlace(payload, this.key, 0);
      this.control(payload);
      return pos + n;
    }
    const hold = (this.hold ??= Buffer.allocUnsafeSlow(HOLD_SIZE));
    chunk.copy(hold, this.held, pos, pos + n);
    this.held += n;
    if (this.remaining === 0) {
      const payload = hold.subarray(0, this.held);
      this.held = 0;
      unmaskInPlace(payload, this.key, 0);
      this.control(payload);
    }
    return pos + n;
  }

  private control(payload: Buffer): void {
    this.state = HEADER;
    if (this.opcode === 9) this.sink.onPing(payload);
    else if (this.opcode === 10) this.sink.onPong(payload);
    else this.close(payload);
  }

  private close(payload: Buffer): void {
    if (payload.length === 0) {
      this.state = STOPPED;
      this.sink.onClose(NO_STATUS, EMPTY);
      return;
    }
    const error = closePayloadError(payload);
    if (error !== undefined) {
      this.fail(error);
      return;
    }
    this.state = STOPPED;
    this.sink.onClose(payload.readUInt16BE(0), payload.subarray(2));
  }

  /** Stops the parser and reports `error`; false, for the checks to return. */
  private fail(error: FrameError): false {
    this.state = STOPPED;
    this.sink.onError(error);
    return false;
  }
}
