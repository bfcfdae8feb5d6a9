// Bounded fuzzing of the legacy 'base64' subprotocol against the real daemon (issue #12): random text messages —
// valid base64, characters outside the alphabet, bad padding, whitespace, huge ones past where the old regex
// overflowed the stack, ones over --max-message-size. After each case the daemon is alive, and the message either
// reached the target byte-exact or closed the session with its documented code (1007 BAD_BASE64, 1009 MESSAGE_TOO_BIG).
// Replay a failure with FUZZ_SEED=<printed seed>.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import fc from 'fast-check';
import type WebSocket from 'ws';
import { closed, openWs, spawnDaemon, startTarget, waitFor } from '../../helpers/proxy.js';

const MAX_MESSAGE = 6 * 1024 * 1024;
const SENTINEL = 'AAEC'; // 00 01 02: sent after every case, so an empty decode is seen too
// The strict reference for what the decoder must accept (only run on short strings: it is what overflowed).
const REFERENCE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A case: the text to send and what it must do. */
interface Case {
  readonly text: Buffer;
  readonly expect: { kind: 'relay'; bytes: Buffer } | { kind: 'close'; code: number };
  readonly label: string;
}

function judged(text: Buffer, label: string): Case {
  if (text.length > MAX_MESSAGE) return { text, label, expect: { kind: 'close', code: 1009 } };
  const s = text.toString('latin1');
  return REFERENCE.test(s)
    ? { text, label, expect: { kind: 'relay', bytes: Buffer.from(s, 'base64') } }
    : { text, label, expect: { kind: 'close', code: 1007 } };
}

const small = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => judged(Buffer.from(Buffer.from(b).toString('base64')), 'valid')),
  fc
    .string({ unit: fc.constantFrom(...'AZaz09+/=-_ \t\r\n.!é\u0000'.split('')), maxLength: 64 })
    .map((s) => judged(Buffer.from(s, 'utf8'), 'odd characters')),
  fc
    .tuple(
      fc.uint8Array({ minLength: 1, maxLength: 64 }),
      fc.nat(),
      fc.constantFrom('=', '==', '===', ' ', '\n', '*', '-', 'é'),
    )
    .map(([b, at, c]) => {
      const s = Buffer.from(b).toString('base64');
      const i = at % (s.length + 1);
      return judged(Buffer.from(s.slice(0, i) + c + s.slice(i), 'utf8'), 'inserted padding/whitespace/other');
    }),
);
// Huge messages are built, not judged by the regex: valid, one bad byte somewhere, or one byte over the limit.
const huge = fc
  .tuple(fc.integer({ min: 4_500_000, max: MAX_MESSAGE }), fc.constantFrom('valid', 'bad byte', 'over limit'), fc.nat())
  .map(([size, kind, at]): Case => {
    if (kind === 'over limit')
      return {
        text: Buffer.alloc(MAX_MESSAGE + 4, 0x41),
        label: 'over the limit',
        expect: { kind: 'close', code: 1009 },
      };
    const raw = Buffer.alloc(Math.floor(size / 4) * 3, at & 0xff);
    raw.writeUInt32LE(at >>> 0, 0);
    const text = Buffer.from(raw.toString('base64'), 'latin1');
    if (kind === 'valid') return { text, label: `valid ${text.length} bytes`, expect: { kind: 'relay', bytes: raw } };
    text[at % text.length] = 0x2a; // '*'
    return { text, label: `${text.length} bytes, one bad byte`, expect: { kind: 'close', code: 1007 } };
  });

test('fuzz: base64 messages against the real daemon (bounded, seeded)', async () => {
  const seed =
    process.env['FUZZ_SEED'] === undefined
      ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0
      : Number(process.env['FUZZ_SEED']);
  console.log(`fuzz-base64 seed: FUZZ_SEED=${seed}`);
  // What each target connection received, in order of connection.
  const conns: Buffer[][] = [];
  const target = await startTarget((s) => {
    const mine: Buffer[] = [];
    conns.push(mine);
    s.on('data', (d: Buffer) => mine.push(d));
  });
  const d = await spawnDaemon(['--max-message-size', String(MAX_MESSAGE), '127.0.0.1:0', `127.0.0.1:${target.port}`]);
  const url = `ws://127.0.0.1:${d.port}/websockify`;
  try {
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 12, arbitrary: small }, { weight: 1, arbitrary: huge }), async (c) => {
        const before = conns.length;
        const ws: WebSocket = await openWs(url, {}, ['base64']).catch((err: Error) => {
          throw new Error(`cannot open a session (daemon exit code ${d.proc.exitCode}): ${err.message}`);
        });
        ws.on('error', () => {});
        // The proxy dials the target before the 101, but our target may see the connection after our 'open'.
        await waitFor(() => conns.length > before, 5000, 'the target connection');
        const got = conns[before] ?? [];
        const end = closed(ws);
        ws.send(c.text, { binary: false });
        ws.send(SENTINEL);
        if (c.expect.kind === 'relay') {
          const want = Buffer.concat([c.expect.bytes, Buffer.from([0, 1, 2])]);
          await waitFor(() => Buffer.concat(got).length >= want.length, 20_000, `${c.label}: bytes at the target`);
          assert.ok(Buffer.concat(got).equals(want), `${c.label}: the target got other bytes`);
          ws.close(1000);
          await end;
        } else {
          const result = await Promise.race([
            end,
            once(d.proc, 'exit').then(() => ({ code: -1, reason: 'daemon exited' })),
          ]);
          assert.equal(result.code, c.expect.code, `${c.label}: close code`);
          assert.equal(Buffer.concat(got).length, 0, `${c.label}: bytes reached the target`);
        }
        assert.equal(d.proc.exitCode, null, 'the daemon exited');
        assert.equal(d.proc.signalCode, null, 'the daemon was killed');
      }),
      { seed, numRuns: 400, interruptAfterTimeLimit: 10_000, markInterruptAsFailure: false },
    );
    // Alive and serving after the whole run.
    const ws = await openWs(url, {}, ['base64']);
    ws.close();
    await closed(ws);
  } finally {
    await d.stop();
    await target.close();
  }
});
