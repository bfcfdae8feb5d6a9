import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../src/log.js';
import { escapeFrame, frameLine, Recorder } from '../../../src/record/recorder.js';

// websockify: buf.decode('latin1').encode('unicode_escape').decode('ascii').replace("'", "\\'")
function pythonEscape(buf: Buffer): string {
  return execFileSync(
    'python3',
    [
      '-c',
      "import sys; b=sys.stdin.buffer.read(); sys.stdout.write(b.decode('latin1').encode('unicode_escape').decode('ascii').replace(\"'\", \"\\\\'\"))",
    ],
    {
      input: buf,
      encoding: 'utf8',
    },
  );
}

test("escaping matches websockify's (Python's own codec) for all 256 byte values and random data", () => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  assert.equal(escapeFrame(all), pythonEscape(all));
  const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));
  assert.equal(escapeFrame(random), pythonEscape(random));
});

test('frame lines carry direction and whole milliseconds', () => {
  assert.equal(frameLine('to-client', 12.9, Buffer.from('RFB 003.008\n')), "'{12{RFB 003.008\\n',\n");
  assert.equal(frameLine('from-client', 0, Buffer.from([0x27, 0x5c, 0x00])), "'}0}\\'\\\\\\x00',\n");
});

test('a 16 MiB frame is escaped in well under a second (byte-by-byte concatenation took ~9 s)', () => {
  const big = Buffer.alloc(16 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
  const t0 = performance.now();
  const line = frameLine('from-client', 5, big);
  const ms = performance.now() - t0;
  assert.ok(line.startsWith("'}5}") && line.endsWith("',\n"));
  const head = escapeFrame(big.subarray(0, 300)); // escaping is per byte: the line starts with the escaped prefix
  assert.equal(line.slice(4, 4 + head.length), head);
  assert.ok(ms < 3000, `escaping took ${ms} ms`);
});

test('when the disk falls behind past the queue cap, the recording is dropped with one log line and ends valid', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsproxy-recq-'));
  const logs: string[] = [];
  const log = createLogger({ level: 'debug', format: 'text', sink: { write: (l: string) => logs.push(l) } });
  // Room for a 1-byte message plus 1 KiB: the second 4 KiB line finds the first still queued (writes are async).
  const rec = new Recorder(join(dir, 's'), log, 1, 1024);
  const opened = rec.open();
  assert.ok(opened);
  const frame = Buffer.alloc(4096, 0x41);
  for (let i = 0; i < 3; i++) opened.tap.onTargetData?.(frame, i);
  opened.tap.onClose?.({
    reason: 'CLIENT_CLOSED',
    closeCode: 1000,
    bytesFromClient: 0,
    bytesToClient: 3 * 4096,
    durationMs: 1,
  });
  const dropped = logs.filter((l) => l.includes('recording dropped'));
  assert.equal(dropped.length, 1, logs.join(''));
  assert.match(dropped[0] ?? '', /reason=RECORDING_DROPPED/);
  const deadline = Date.now() + 5000;
  let text = '';
  while (!text.endsWith("'EOF'];\n") && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
    text = readFileSync(opened.file, 'latin1');
  }
  assert.equal(text, `var VNC_frame_data = [\n'{0{${'A'.repeat(4096)}',\n'EOF'];\n`);
});
