// Target reads go through reused buffers (src/relay/read-pool.ts): a target sending many distinct chunks faster than
// the client reads must still deliver every byte exactly, in order. The stream is a counter (word i holds i), so a
// buffer reused while its bytes were still queued would show as a word out of place.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import { openWs, startProxy, startTarget, waitFor, type TestTarget } from '../../helpers/proxy.js';

const TOTAL = 64 * 1024 * 1024;
const MiB = 1024 * 1024;

/** Writes the counter stream in chunks of varying size (1 B … 100 KiB), as fast as the socket takes them. */
function sendCounter(socket: Socket): void {
  let offset = 0;
  let size = 1;
  const pump = (): void => {
    while (offset < TOTAL) {
      size = (size * 7919 + 13) % (100 * 1024) || 1;
      const n = Math.min(size, TOTAL - offset);
      const chunk = counterBytes(offset, n);
      offset += n;
      if (!socket.write(chunk)) return void socket.once('drain', pump);
    }
    socket.end();
  };
  pump();
}

/** The bytes [from, from + n) of the stream: little-endian 32-bit word i holds i. */
function counterBytes(from: number, n: number): Buffer {
  const first = Math.floor(from / 4);
  const words = Buffer.allocUnsafe((Math.ceil((from + n) / 4) - first) * 4);
  for (let w = 0; w < words.length / 4; w++) words.writeUInt32LE(first + w, w * 4);
  return words.subarray(from - first * 4, from - first * 4 + n);
}

for (const kind of ['tcp', 'unix'] as const) {
  for (const highWaterMark of [64 * 1024, MiB]) {
    describe(`pooled target reads, ${kind} target, ${highWaterMark >> 10} KiB high-water mark`, () => {
      test('a slow reader gets all 64 MiB of many distinct chunks, exactly and in order', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'wsproxy-pool-'));
        const path = kind === 'unix' ? join(dir, 'target.sock') : undefined;
        const target: TestTarget = await startTarget(sendCounter, path);
        const proxy = await startProxy(target.port, {
          limits: { highWaterMark },
          ...(path === undefined ? {} : { targets: { kind: 'fixed', target: { kind: 'unix', path } } }),
        });
        try {
          const ws = await openWs(`ws://127.0.0.1:${proxy.port}/`);
          let received = 0;
          let pauses = 0;
          let nextPause = 4 * MiB;
          const done = new Promise<void>((resolve, reject) => {
            ws.on('message', (data: Buffer) => {
              if (!data.equals(counterBytes(received, data.length))) {
                reject(new Error(`bytes ${received}…${received + data.length} differ from the stream`));
              }
              received += data.length;
              if (received >= TOTAL) resolve();
              else if (received >= nextPause && received < TOTAL / 2) {
                // Slow reader: stop until the proxy has paused the target (its queued chunks wait in pool buffers). Only in
                // the first half: near the end, what is left may all fit in the kernel's buffers.
                nextPause += 4 * MiB;
                ws.pause();
                void waitFor(() => proxy.server.sessions()[0]?.targetPaused === true, 10_000, 'target paused')
                  .then(() => (pauses++, ws.resume()))
                  .catch(reject);
              }
            });
            ws.on('close', () => (received < TOTAL ? reject(new Error(`closed after ${received} bytes`)) : resolve()));
          });
          await done;
          assert.equal(received, TOTAL);
          assert.ok(pauses > 0, 'the target was paused at least once');
          ws.close();
        } finally {
          await proxy.close();
          await target.close();
          rmSync(dir, { recursive: true, force: true });
        }
      });
    });
  }
}
