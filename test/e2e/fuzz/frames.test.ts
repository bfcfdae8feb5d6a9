// Fuzz (issue #12): WebSocket frame streams after a successful upgrade to an echo target, written in random chunks.
// Seed and replay: see test/helpers/fuzz.ts.
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startEchoTarget, testCertificate, type TestTarget } from '../../helpers/proxy.js';
import {
  assertHealthyAfter,
  assertServing,
  clientFrame,
  cutAt,
  fc,
  fuzzParams,
  isValidSentCloseCode,
  parseServerFrames,
  rawUpgrade,
  startFuzzDaemon,
  writeChunks,
  type FuzzDaemon,
  type ServerFrame,
} from '../../helpers/fuzz.js';

const MAX_MESSAGE = 64 * 1024;

/** Collects a session's server frames; `until` polls them. */
function frameReader(socket: Socket, first: Buffer): { frames: () => ServerFrame[]; closed: () => boolean } {
  let buf = first;
  let isClosed = false;
  socket.on('data', (c: Buffer) => (buf = Buffer.concat([buf, c])));
  socket.once('close', () => (isClosed = true));
  socket.resume();
  return { frames: () => parseServerFrames(buf).frames, closed: () => isClosed };
}

async function until(check: () => boolean, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const closeCodeOf = (f: ServerFrame): number | undefined =>
  f.payload.length >= 2 ? f.payload.readUInt16BE(0) : undefined;
const dataOf = (frames: ServerFrame[]): Buffer =>
  Buffer.concat(frames.filter((f) => f.opcode === 0 || f.opcode === 1 || f.opcode === 2).map((f) => f.payload));
const cutsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 });
const bytes = (max: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));

/** A valid message: binary bytes or UTF-8 text, in 1-4 fragments, with pings and pongs between the fragments. */
const message = fc
  .record({
    text: fc.boolean(),
    data: fc.oneof(
      bytes(3000),
      fc.string({ unit: 'grapheme', maxLength: 200 }).map((s) => Buffer.from(s, 'utf8')),
    ),
    cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
    controls: fc.array(fc.tuple(fc.constantFrom(9, 10), bytes(125)), { maxLength: 3 }),
  })
  .map(({ text, data, cuts, controls }) => {
    const payload = text ? Buffer.from(data.toString('utf8'), 'utf8') : data;
    const parts = payload.length === 0 ? [payload] : cutAt(payload, cuts);
    const frames: Buffer[] = [];
    const pings: Buffer[] = [];
    parts.forEach((part, i) => {
      frames.push(clientFrame(i === 0 ? (text ? 1 : 2) : 0, part, { fin: i === parts.length - 1 }));
      const control = controls[i];
      if (control && i < parts.length - 1) {
        frames.push(clientFrame(control[0], control[1]));
        if (control[0] === 9) pings.push(control[1]);
      }
    });
    return { payload, wire: Buffer.concat(frames), pings };
  });

/** Any frame, mostly broken: reserved opcodes and bits, unmasked, bad UTF-8, bad close codes, huge or lying lengths. */
const hostileFrame = fc.oneof(
  fc
    .record({
      opcode: fc.nat(15),
      fin: fc.boolean(),
      rsv: fc.oneof(fc.constant(0), fc.nat(7)),
      mask: fc.oneof(fc.constant(true), fc.boolean()),
      payload: bytes(300),
    })
    .map((f) => clientFrame(f.opcode, f.payload, f)),
  fc
    .tuple(fc.nat(0xffff), bytes(40))
    .map(([code, reason]) => clientFrame(8, Buffer.concat([Buffer.from([code >> 8, code & 0xff]), reason]))),
  fc
    .constantFrom(
      Buffer.from([0xc3, 0x28]),
      Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]),
      Buffer.from([0xe2, 0x82]),
    )
    .map((bad) => clientFrame(1, Buffer.concat([Buffer.from('ok'), bad]))),
  fc.constantFrom(Buffer.from([0x03, 0xe8, 0xc3, 0x28]), Buffer.from([0x03])).map((p) => clientFrame(8, p)),
  fc
    .tuple(fc.constantFrom(8, 9, 10), fc.integer({ min: 126, max: 400 }))
    .map(([op, n]) => clientFrame(op, Buffer.alloc(n, 1))),
  fc
    .constantFrom(2n ** 63n, 2n ** 64n - 1n, 2n ** 53n, 2n ** 32n, BigInt(MAX_MESSAGE + 1))
    .map((len) => clientFrame(2, Buffer.alloc(0), { len })),
);

describe('fuzz: WebSocket frame streams', () => {
  let target: TestTarget;
  let d: FuzzDaemon;
  let ca: string;
  before(async () => {
    target = await startEchoTarget();
    ca = (await testCertificate()).pem;
    d = await startFuzzDaemon([
      '--max-message-size',
      String(MAX_MESSAGE),
      '--text-frames',
      'binary',
      '127.0.0.1:0',
      `127.0.0.1:${target.port}`,
    ]);
  });
  after(async () => {
    await d.stop();
    await target.close();
  });

  test('valid fragmented messages with interleaved control frames (ws and wss, some sent with the upgrade) echo exactly, pings get pongs, close is answered', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(message, { minLength: 1, maxLength: 5 }),
        cutsArb,
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom(1000, 1001, 3000, 4999),
        async (messages, cuts, pipelined, tls, code) => {
          runs++;
          const pieces = cutAt(Buffer.concat(messages.map((m) => m.wire)), cuts);
          // Pipelined: the first frames go out with the upgrade request, before its 101 came back.
          const { socket, rest } = await rawUpgrade(
            d.port,
            '/',
            undefined,
            pipelined ? pieces.shift() : undefined,
            undefined,
            tls ? ca : undefined,
          );
          const r = frameReader(socket, rest);
          const expected = Buffer.concat(messages.map((m) => m.payload));
          const pings = messages.flatMap((m) => m.pings);
          await writeChunks(socket, pieces);
          const got = (): string =>
            `${dataOf(r.frames()).length}/${expected.length} bytes, frames ${r
              .frames()
              .map((f) => f.opcode)
              .join(',')}`;
          await until(() => dataOf(r.frames()).length >= expected.length, 5_000, got);
          assert.ok(dataOf(r.frames()).equals(expected), 'echoed bytes differ');
          await until(() => r.frames().filter((f) => f.opcode === 10).length >= pings.length, 5_000, got);
          assert.deepEqual(
            r
              .frames()
              .filter((f) => f.opcode === 10)
              .map((f) => f.payload.toString('hex')),
            pings.map((p) => p.toString('hex')),
          );
          socket.write(clientFrame(8, Buffer.from([code >> 8, code & 0xff])));
          await until(() => r.closed(), 5_000, got);
          const close = r.frames().find((f) => f.opcode === 8);
          assert.ok(close, 'no close frame from the server');
          const sent = closeCodeOf(close);
          assert.ok(sent === undefined || isValidSentCloseCode(sent), `server close code ${sent}`);
        },
      ),
      fuzzParams(120, 6_000),
    );
    console.log(`fuzz-frames: ${runs} valid streams`);
    assert.ok(runs >= 10, 'too few cases ran in the time budget');
    await assertServing(d);
    await assertHealthyAfter(d);
  });

  test('hostile frame streams end the session with a valid close code (or TCP close); the daemon serves on', async () => {
    let runs = 0;
    const stream = fc.tuple(
      fc.array(message, { maxLength: 2 }),
      fc.array(hostileFrame, { minLength: 1, maxLength: 6 }),
    );
    await fc.assert(
      fc.asyncProperty(stream, cutsArb, fc.boolean(), fc.boolean(), async ([good, bad], cuts, pipelined, tls) => {
        runs++;
        // Whatever came before, a final close frame (or the frame error) must end the session.
        const wire = Buffer.concat([...good.map((m) => m.wire), ...bad, clientFrame(8, Buffer.from([0x03, 0xe8]))]);
        const pieces = cutAt(wire, cuts);
        const { socket, rest } = await rawUpgrade(
          d.port,
          '/',
          undefined,
          pipelined ? pieces.shift() : undefined,
          undefined,
          tls ? ca : undefined,
        );
        const r = frameReader(socket, rest);
        await writeChunks(socket, pieces);
        await until(
          () => r.closed(),
          5_000,
          () => `session still open after ${wire.subarray(0, 40).toString('hex')}`,
        );
        for (const f of r.frames().filter((x) => x.opcode === 8)) {
          const code = closeCodeOf(f);
          assert.ok(code === undefined || isValidSentCloseCode(code), `server close code ${code}`);
          assert.ok(f.payload.length <= 125, 'close frame longer than 125 bytes');
        }
        await assertServing(d);
      }),
      fuzzParams(150, 6_000),
    );
    console.log(`fuzz-frames: ${runs} hostile streams`);
    assert.ok(runs >= 10, 'too few cases ran in the time budget');
    await assertHealthyAfter(d);
  });
});
