/**
 * `--record FILE`: one file per session, `FILE.<n>`, in noVNC's playback format exactly as websockify writes it, so
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

/** Escapes bytes like Python's latin-1 → unicode_escape, plus `'` → `\'` (websockify's send_frames/recv_frames). */
export function escapeFrame(buf: Buffer): string {
  let out = '';
  for (const b of buf) {
    if (b === 0x5c) out += '\\\\';
    else if (b === 0x27) out += "\\'";
    else if (b === 0x09) out += '\\t';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += '\\x' + b.toString(16).padStart(2, '0');
  }
  return out;
}

/** One line of the recording for a frame in either direction. */
export function frameLine(direction: 'to-client' | 'from-client', ms: number, buf: Buffer): string {
  const mark = direction === 'to-client' ? '{' : '}';
  return `'${mark}${Math.floor(ms)}${mark}${escapeFrame(buf)}',\n`;
}

/** Hands out recording files `prefix.<n>` for sessions. */
export class Recorder {
  private next = 1;

  constructor(
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

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
        this.log.warn('cannot open recording file; session not recorded', { file, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
        return undefined;
      }
      const stream: WriteStream = createWriteStream(file, { fd });
      stream.on('error', (err) => this.log.warn('recording write failed', { file, error: err.message }));
      stream.write('var VNC_frame_data = [\n');
      if (meta !== undefined) this.writeMeta(`${file}.json`, meta);
      const tap: RelayTap = {
        onTargetData: (chunk, ms) => void stream.write(frameLine('to-client', ms, chunk)),
        onClientData: (chunk, ms) => void stream.write(frameLine('from-client', ms, chunk)),
        onClose: (_info: CloseInfo) => void stream.end("'EOF'];\n"),
      };
      return { tap, file };
    }
    this.log.warn('no free recording file name; session not recorded', { prefix: this.prefix });
    return undefined;
  }

  private writeMeta(file: string, meta: Readonly<Record<string, unknown>>): void {
    try {
      writeFileSync(file, JSON.stringify(meta, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      this.log.warn('cannot write the recording facts file', { file, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
    }
  }
}
