/**
 * `record` FILE`: one file per session, `FILE.<n>`, in noVNC's playback format exactly as websockify writes it, so
 * noVNC's `tests/playback.html` replays it:
 *
 *   var VNC_frame_data = [
 *   '{<ms since the upgrade>{<bytes sent to the client>',
 *   '}<ms>}<bytes received from the client>',
 *   'EOF'];
 *
 * Bytes are escaped as Python's `bytes.decode('latin1').encode('unicode_escape')` does, then `'` becomes `\'`.
 * An existing recording is never overwritten: `<n>` moves on to the next free number.
 */
import { createWriteStream, openSync, writeFileSync, type WriteStream } from 'node:fs';
import type { Logger } from '../log.js';
import type { CloseInfo, RelayTap } from '../relay/relay.js';

// What each byte value becomes in the recording: itself, a short escape, or \xNN.
const ESCAPES: readonly Uint8Array[] = Array.from({ length: 256 }, (_, b) => {
  const named: Record<number, string> = { 0x5c: '\\\\', 0x27: "\\'", 0x09: '\\t', 0x0a: '\\n', 0x0d: '\\r' };
  const text = named[b] ?? (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '\\x' + b.toString(16).padStart(2, '0'));
  return Buffer.from(text, 'latin1');
});
const ESCAPED_LENGTH = Uint8Array.from(ESCAPES, (e) => e.length);

/** Bytes `buf` takes once escaped. */
function escapedLength(buf: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < buf.length; i++) n += ESCAPED_LENGTH[buf[i] as number] as number;
  return n;
}

/** Writes the escaped form of `buf` into `out` at `at` (room checked by the caller); returns the end offset. */
function escapeInto(buf: Uint8Array, out: Buffer, at: number): number {
  let o = at;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i] as number;
    if (ESCAPED_LENGTH[b] === 1) out[o++] = b;
    else for (const c of ESCAPES[b] as Uint8Array) out[o++] = c;
  }
  return o;
}

/**
 * Escapes bytes like Python's latin-1 → unicode_escape, plus `'` → `\'` (websockify's send_frames/recv_frames). Two
 * linear passes over a buffer: the byte-by-byte string concatenation it replaces blocked the event loop ~9 s per 16 MiB.
 */
export function escapeFrame(buf: Buffer): string {
  return framed('', buf, '').toString('latin1');
}

/** `head`, the escaped bytes and `tail` (both ASCII) in one buffer. */
function framed(head: string, buf: Buffer, tail: string): Buffer {
  const out = Buffer.allocUnsafe(head.length + escapedLength(buf) + tail.length);
  const o = escapeInto(buf, out, out.write(head, 0, 'latin1'));
  out.write(tail, o, 'latin1');
  return out;
}

/** One line of the recording for a frame in either direction, as bytes (ASCII). */
export function frameLineBytes(direction: 'to-client' | 'from-client', ms: number, buf: Buffer): Buffer {
  const mark = direction === 'to-client' ? '{' : '}';
  return framed(`'${mark}${Math.floor(ms)}${mark}`, buf, "',\n");
}

/** One line of the recording for a frame in either direction. */
export function frameLine(direction: 'to-client' | 'from-client', ms: number, buf: Buffer): string {
  return frameLineBytes(direction, ms, buf).toString('latin1');
}

/**
 * Bytes of recording lines one session may have waiting for the disk beyond room for its largest possible line (a
 * `maxMessageSize` message escaped: up to 4 bytes per byte). Past it, the recording of that session is dropped (the
 * session goes on): holding more would let a slow disk grow memory without bound, and pausing the session would let
 * the disk stall the user.
 */
export const RECORD_QUEUE_CAP = 16 * 1024 * 1024;
const EOF_LINE = "'EOF'];\n";

/** The tap of one recording: frame lines to `stream` until the session ends or the disk falls `cap` bytes behind. */
function recordingTap(stream: WriteStream, file: string, log: Logger, cap: number): RelayTap {
  let dropped = false;
  const write = (direction: 'to-client' | 'from-client', ms: number, chunk: Buffer): void => {
    if (dropped) return;
    if (stream.writableLength > cap) {
      dropped = true;
      log.warn('recording dropped: the disk is not keeping up; the session goes on unrecorded', {
        reason: 'RECORDING_DROPPED',
        file,
        queued_bytes: stream.writableLength,
      });
      stream.end(EOF_LINE); // what was queued is kept, and the file stays valid for playback
      return;
    }
    stream.write(frameLineBytes(direction, ms, chunk));
  };
  return {
    onTargetData: (chunk, ms) => write('to-client', ms, chunk),
    onClientData: (chunk, ms) => write('from-client', ms, chunk),
    onClose: (_info: CloseInfo) => void (dropped || stream.end(EOF_LINE)),
  };
}

/** Hands out recording files `prefix.<n>` for sessions. */
export class Recorder {
  private next = 1;
  private readonly queueLimit: number;

  constructor(
    private readonly prefix: string,
    private readonly log: Logger,
    /** `maxMessageSize`: the largest frame a line may hold. */
    maxMessageBytes: number,
    /** See {@link RECORD_QUEUE_CAP}. */
    queueCap = RECORD_QUEUE_CAP,
  ) {
    this.queueLimit = queueCap + 4 * maxMessageBytes;
  }

  /**
   * Opens the next free `prefix.<n>` and returns a tap writing to it, or undefined if no file could be opened. With
   * `meta`, the session's facts (client, target, identity, client certificate) go to `prefix.<n>.json` beside it: the
   * playback file itself stays exactly noVNC's format, which has no place for them.
   */
  open(meta?: Readonly<Record<string, unknown>>): { tap: RelayTap; file: string } | undefined {
    for (let tries = 0; tries < 10_000; tries++) {
      const file = `${this.prefix}.${this.next++}`;
      let fd: number;
      try {
        fd = openSync(file, 'wx', 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        this.log.warn('cannot open recording file; session not recorded', {
          file,
          error: (err as NodeJS.ErrnoException).code ?? (err as Error).message,
        });
        return undefined;
      }
      const stream: WriteStream = createWriteStream(file, { fd });
      stream.on('error', (err) => this.log.warn('recording write failed', { file, error: err.message }));
      stream.write('var VNC_frame_data = [\n');
      if (meta !== undefined) this.writeMeta(`${file}.json`, meta);
      return { tap: recordingTap(stream, file, this.log, this.queueLimit), file };
    }
    this.log.warn('no free recording file name; session not recorded', { prefix: this.prefix });
    return undefined;
  }

  private writeMeta(file: string, meta: Readonly<Record<string, unknown>>): void {
    try {
      writeFileSync(file, JSON.stringify(meta, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      this.log.warn('cannot write the recording facts file', {
        file,
        error: (err as NodeJS.ErrnoException).code ?? (err as Error).message,
      });
    }
  }
}
