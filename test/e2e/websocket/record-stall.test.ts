// --record with a 16 MiB message: other sessions stay fast (the old escaper blocked the event loop ~9 s), and the
// recording still holds the message exactly as noVNC's playback format writes it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { escapeFrame } from '../../../src/record/recorder.js';
import { closed, openWs, spawnDaemon, startTarget, waitFor } from '../../helpers/proxy.js';

test('--record: a 16 MiB message is recorded while a second session keeps round trips under 2 s', async () => {
  let bigArrived = 0;
  // Connection 1 swallows the big message; connection 2 echoes.
  let n = 0;
  const target = await startTarget((s) => {
    if (++n === 1) s.on('data', (d: Buffer) => (bigArrived += d.length));
    else s.pipe(s);
  });
  const dir = mkdtempSync(join(tmpdir(), 'wsproxy-recstall-'));
  const d = await spawnDaemon(['--record', join(dir, 'rec'), '127.0.0.1:0', `127.0.0.1:${target.port}`]);
  try {
    const url = `ws://127.0.0.1:${d.port}/websockify`;
    const big = await openWs(url, {}, ['binary']);
    const small = await openWs(url, {}, ['binary']);
    const payload = randomBytes(16 * 1024 * 1024);
    big.send(payload);
    let slowest = 0;
    let rounds = 0;
    // Round trips on the second session until the big message has reached the target, and one more after.
    for (let after = 0; after < 2;) {
      const t0 = performance.now();
      const echo = once(small, 'message');
      small.send(Buffer.from([rounds++ & 0xff]));
      await echo;
      slowest = Math.max(slowest, performance.now() - t0);
      if (bigArrived >= payload.length) after++;
      else await new Promise((r) => setTimeout(r, 20));
      assert.ok(slowest < 2000, `a round trip took ${Math.round(slowest)} ms while the big message was recorded`);
    }
    assert.equal(bigArrived, payload.length);
    big.close();
    small.close();
    await Promise.all([closed(big), closed(small)]);
    const file = join(dir, 'rec.1');
    await waitFor(() => readFileSync(file, 'latin1').endsWith("'EOF'];\n"), 30_000, 'recording written');
    const lines = readFileSync(file, 'latin1').split('\n');
    const line = lines.find((l) => l.startsWith("'}"));
    assert.ok(line !== undefined, 'no client frame in the recording');
    assert.equal(line.slice(line.indexOf('}', 2) + 1), `${escapeFrame(payload)}',`);
    assert.doesNotMatch(d.stderr(), /RECORDING_DROPPED/);
  } finally {
    await d.stop();
    await target.close();
  }
});
