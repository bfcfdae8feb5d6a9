// The legacy 'base64' subprotocol with a real ws client: text frames of base64 both ways, strict decoding, 1007.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { closed, openWs, spawnDaemon, startEchoTarget, startProxy, startTarget, waitFor } from '../../helpers/proxy.js';

/** Collects decoded bytes from a base64 session and checks every frame is a text frame. */
function collect(ws: WebSocket): { bytes: () => Buffer; binaryFrames: () => number } {
  const parts: Buffer[] = [];
  let binary = 0;
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) binary++;
    parts.push(Buffer.from(data.toString('latin1'), 'base64'));
  });
  return { bytes: () => Buffer.concat(parts), binaryFrames: () => binary };
}

describe("legacy 'base64' subprotocol", () => {
  test('bytes both ways as base64 text frames: non-UTF-8 greeting, 1 MiB round trip, binary frames taken as they are', async () => {
    const greeting = Buffer.from([0x52, 0x46, 0x42, 0x00, 0xff, 0xfe, 0x80, 0x0a]);
    const received: Buffer[] = [];
    const target = await startTarget((s) => {
      s.write(greeting);
      s.on('data', (d: Buffer) => {
        received.push(d);
        s.write(d);
      });
    });
    const proxy = await startProxy(target.port);
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/websockify`, ['base64']);
      const got = collect(ws);
      await once(ws, 'open');
      assert.equal(ws.protocol, 'base64');
      await waitFor(() => got.bytes().length >= greeting.length, 3000, 'greeting');
      assert.deepEqual(got.bytes(), greeting);
      const big = randomBytes(1024 * 1024);
      ws.send(big.toString('base64')); // a text frame
      const raw = Buffer.from([0xc3, 0x28, 0x00, 0xff]);
      ws.send(raw, { binary: true });
      const want = Buffer.concat([greeting, big, raw]);
      await waitFor(() => got.bytes().length >= want.length, 20_000, 'echo of 1 MiB');
      assert.ok(got.bytes().equals(want), 'echoed bytes differ');
      assert.ok(Buffer.concat(received).equals(Buffer.concat([big, raw])), 'target got different bytes');
      assert.equal(got.binaryFrames(), 0, 'a base64 session got a binary frame');
      ws.close(1000);
      assert.equal((await closed(ws)).code, 1000);
      await waitFor(
        () =>
          proxy.logs.some(
            (l) => l.includes('session closed') && l.includes(`bytes_from_client=${big.length + raw.length}`),
          ),
        3000,
        'session log with raw byte counts',
      );
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test("'binary' wins when both are offered: binary frames, no encoding", async () => {
    const echo = await startEchoTarget();
    const proxy = await startProxy(echo.port);
    try {
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/`, {}, ['base64', 'binary']);
      assert.equal(ws.protocol, 'binary');
      const reply = once(ws, 'message');
      ws.send(Buffer.from([1, 2, 255]));
      const [data, isBinary] = (await reply) as [Buffer, boolean];
      assert.equal(isBinary, true);
      assert.deepEqual([...data], [1, 2, 255]);
      ws.close();
      await closed(ws);
    } finally {
      await proxy.close();
      await echo.close();
    }
  });

  for (const bad of ['not base64!', 'AAA', 'AP8=\n']) {
    test(`invalid base64 ${JSON.stringify(bad)} → close 1007 with reason BAD_BASE64; nothing reaches the target`, async () => {
      const received: Buffer[] = [];
      const target = await startTarget((s) => s.on('data', (d: Buffer) => received.push(d)));
      const proxy = await startProxy(target.port);
      try {
        const ws = await openWs(`ws://127.0.0.1:${proxy.port}/`, {}, ['base64']);
        ws.send('AAEC'); // valid: 00 01 02
        ws.send(bad);
        const c = await closed(ws);
        assert.equal(c.code, 1007);
        assert.equal(c.reason, 'Invalid base64 data');
        await waitFor(
          () => proxy.logs.some((l) => l.includes('reason=BAD_BASE64') && l.includes('close_code=1007')),
          3000,
          'log line',
        );
        assert.deepEqual([...Buffer.concat(received)], [0, 1, 2]);
        // The daemon goes on.
        const ws2 = await openWs(`ws://127.0.0.1:${proxy.port}/`, {}, ['base64']);
        ws2.close();
        await closed(ws2);
      } finally {
        await proxy.close();
        await target.close();
      }
    });
  }

  test('--record writes the raw bytes of a base64 session, not the base64 text', async () => {
    const target = await startTarget((s) => {
      s.write(Buffer.from([0xff, 0x00, 0x41]));
      s.on('data', () => s.end());
    });
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-rec64-'));
    const proxy = await startProxy(target.port, { recordPrefix: join(dir, 's') });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/`, ['base64']);
      const got = collect(ws);
      await once(ws, 'open');
      await waitFor(() => got.bytes().length >= 3, 3000, 'greeting');
      ws.send(Buffer.from([0x01, 0x27]).toString('base64'));
      await closed(ws);
      const file = join(dir, 's.1');
      await waitFor(
        () => {
          try {
            return readFileSync(file, 'latin1').endsWith("'EOF'];\n");
          } catch {
            return false;
          }
        },
        3000,
        'recording',
      );
      const lines = readFileSync(file, 'latin1').split('\n');
      assert.match(lines[1] ?? '', /^'\{\d+\{\\xff\\x00A',$/);
      assert.match(lines[2] ?? '', /^'\}\d+\}\\x01\\'',$/);
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('messages up to --max-message-size through the real daemon: a valid one arrives byte-exact, an invalid one gets 1007, the daemon goes on', async () => {
    // The target hashes what each connection sends: 12 MiB must not be echoed back through a test client.
    const got: { hash: ReturnType<typeof createHash>; bytes: number }[] = [];
    const target = await startTarget((s) => {
      const entry = { hash: createHash('sha256'), bytes: 0 };
      got.push(entry);
      s.on('data', (d: Buffer) => {
        entry.hash.update(d);
        entry.bytes += d.length;
      });
    });
    const d = await spawnDaemon(['127.0.0.1:0', `127.0.0.1:${target.port}`]);
    try {
      const url = `ws://127.0.0.1:${d.port}/websockify`;
      // 4.5 MiB of text (past where the old regex overflowed) and exactly the 16 MiB limit.
      for (const textBytes of [4.5 * 1024 * 1024, 16 * 1024 * 1024]) {
        const raw = randomBytes((textBytes / 4) * 3);
        // The target's accept and the client's 101 reach this process in either order: find the session by index.
        const index = got.length;
        const ws = await openWs(url, {}, ['base64']);
        ws.send(raw.toString('base64'));
        await waitFor(() => (got[index]?.bytes ?? 0) >= raw.length, 30_000, `${textBytes} bytes at the target`);
        const entry = got[index];
        assert.equal(entry?.bytes, raw.length);
        assert.equal(
          entry?.hash.digest('hex'),
          createHash('sha256').update(raw).digest('hex'),
          'target got other bytes',
        );
        ws.close(1000);
        await closed(ws);
      }
      // An invalid 16 MiB message: one character outside the alphabet at the very end.
      const bad = Buffer.from(randomBytes(12 * 1024 * 1024).toString('base64'), 'latin1');
      bad[bad.length - 1] = 0x2a; // '*'
      const ws = await openWs(url, {}, ['base64']);
      ws.send(bad, { binary: false });
      const c = await closed(ws);
      assert.equal(c.code, 1007);
      await waitFor(() => /session closed.*reason=BAD_BASE64/.test(d.stderr()), 5000, 'BAD_BASE64 log line');
      assert.equal(d.proc.exitCode, null, 'the daemon exited');
      const index = got.length;
      const again = await openWs(url, {}, ['base64']);
      again.send('AAEC');
      await waitFor(() => got[index]?.bytes === 3, 5000, 'a new session after the big ones');
      again.close();
      await closed(again);
    } finally {
      await d.stop();
      await target.close();
    }
  });
});
