// Fuzz (issue #12): a connection's first bytes, and PROXY protocol v1/v2 headers, against the real daemon. Seed and
// replay: see test/helpers/fuzz.ts.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { V2_SIGNATURE } from '../../../src/listener/proxy-protocol.js';
import { startEchoTarget, type TestTarget } from '../../helpers/proxy.js';
import {
  assertHealthyAfter,
  assertServing,
  assertStatusIn,
  cutAt,
  fc,
  fuzzParams,
  judgeAnswer,
  rawConnect,
  startFuzzDaemon,
  untilClosed,
  writeChunks,
  type FuzzDaemon,
} from '../../helpers/fuzz.js';

// What a first request may be answered with: the info page, a refusal from the catalogue, or the parser's 400/431.
const ANSWERS = new Set([200, 400, 404, 405, 408, 421, 426, 431, 505]);
const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', 'latin1');

/** A real ClientHello from Node's TLS client, caught by a plain TCP server. */
async function realClientHello(): Promise<Buffer> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const got = new Promise<Buffer>((resolve) =>
    server.once('connection', (s) => s.once('data', (b: Buffer) => (resolve(b), s.destroy()))),
  );
  const client = tlsConnect({
    port: (server.address() as AddressInfo).port,
    host: '127.0.0.1',
    servername: 'localhost',
  });
  client.on('error', () => {});
  const hello = await got;
  client.destroy();
  server.close();
  return hello;
}

/** Sends `chunks`, half-closes if asked, and judges what came back before the server closed (in `ms`). */
async function sendAndJudge(
  port: number,
  chunks: Buffer[],
  end: boolean,
  ms: number,
): Promise<ReturnType<typeof judgeAnswer>> {
  const socket = await rawConnect(port);
  const done = untilClosed(socket, ms);
  await writeChunks(socket, chunks, 15);
  if (end) socket.end();
  return judgeAnswer(await done);
}

const bytes = (max: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const ipv6 = fc
  .array(fc.nat(0xffff), { minLength: 8, maxLength: 8 })
  .map((g) => g.map((x) => x.toString(16)).join(':'));
const port = fc.nat(65535);
/** Half-close after sending (most cases), or leave the connection open for the handshake deadline (slowloris). */
const halfClose = fc.oneof({ arbitrary: fc.constant(true), weight: 6 }, { arbitrary: fc.constant(false), weight: 1 });

/** A valid v1 line: TCP4, TCP6 or UNKNOWN (with or without the optional fields). */
const v1Valid = fc
  .oneof(
    fc.tuple(ipv4, ipv4, port, port).map(([s, d, sp, dp]) => `PROXY TCP4 ${s} ${d} ${sp} ${dp}\r\n`),
    fc.tuple(ipv6, ipv6, port, port).map(([s, d, sp, dp]) => `PROXY TCP6 ${s} ${d} ${sp} ${dp}\r\n`),
    fc.constantFrom('PROXY UNKNOWN\r\n', 'PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n'),
  )
  .map((s) => Buffer.from(s, 'latin1'));

/** A TLV list (type, 16-bit length, value), as v2 allows after the addresses. */
const tlvs = fc
  .array(fc.tuple(fc.nat(255), bytes(40)), { maxLength: 4 })
  .map((list) =>
    Buffer.concat(
      list.map(([type, value]) => Buffer.concat([Buffer.from([type, value.length >> 8, value.length & 0xff]), value])),
    ),
  );

/** A valid v2 header: PROXY or LOCAL; INET, INET6, UNIX or UNSPEC over STREAM, DGRAM or UNSPEC; TLVs after. */
const v2Valid = fc
  .record({
    local: fc.boolean(),
    family: fc.constantFrom(0, 1, 2, 3),
    proto: fc.constantFrom(0, 1, 2),
    addr: bytes(216),
    tlv: tlvs,
  })
  .map(({ local, family, proto, addr, tlv }) => {
    const size = [0, 12, 36, 216][family]!;
    const block = Buffer.concat([addr, Buffer.alloc(216)]).subarray(0, size);
    const body = Buffer.concat([block, tlv]);
    const head = Buffer.from([0x20 | (local ? 0 : 1), (family << 4) | proto, body.length >> 8, body.length & 0xff]);
    return Buffer.concat([V2_SIGNATURE, head, body]);
  });

/** A header with a few bytes overwritten, cut short, or its v2 length replaced. */
function mutated(valid: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc
    .tuple(
      valid,
      fc.array(fc.tuple(fc.nat(300), fc.nat(255)), { minLength: 1, maxLength: 4 }),
      fc.option(fc.nat(300)),
      fc.option(fc.nat(0xffff)),
    )
    .map(([h, edits, cut, len]) => {
      const b = Buffer.from(h);
      for (const [at, value] of edits) if (b.length > 0) b[at % b.length] = value;
      if (len !== null && b.length >= 16 && b.subarray(0, 12).equals(V2_SIGNATURE)) b.writeUInt16BE(len, 14);
      return cut === null ? b : b.subarray(0, cut % (b.length + 1));
    });
}

describe('fuzz: first bytes', () => {
  let target: TestTarget;
  let d: FuzzDaemon;
  let hello: Buffer;
  before(async () => {
    target = await startEchoTarget();
    hello = await realClientHello();
    d = await startFuzzDaemon(['127.0.0.1:0', `127.0.0.1:${target.port}`]);
  });
  after(async () => {
    await d.stop();
    await target.close();
  });

  test('TLS-ish, garbage, truncated and slow first bytes get a TCP close, a TLS record or an HTTP answer', async () => {
    let runs = 0;
    const first = fc.oneof(
      fc.tuple(fc.constantFrom(0x16, 0x80), bytes(300)).map(([b, rest]) => Buffer.concat([Buffer.from([b]), rest])),
      fc.tuple(fc.nat(hello.length), bytes(8), fc.nat(hello.length)).map(([cut, noise, at]) => {
        const b = Buffer.from(hello.subarray(0, Math.max(1, cut)));
        b.set(noise.subarray(0, Math.max(0, b.length - at)), Math.min(at, b.length));
        return b;
      }),
      bytes(400),
      fc.nat(REQUEST.length).map((n) => REQUEST.subarray(0, n)),
    );
    await fc.assert(
      fc.asyncProperty(
        first,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
        halfClose,
        async (data, cuts, end) => {
          runs++;
          const answer = await sendAndJudge(d.port, cutAt(data, cuts), end || data.length === 0, 4_000);
          assertStatusIn(answer, ANSWERS, `first bytes ${data.subarray(0, 24).toString('hex')}`);
          await assertServing(d);
        },
      ),
      fuzzParams(200, 5_000),
    );
    console.log(`fuzz-proxy-header: ${runs} first bytes`);
    assert.ok(runs >= 10, 'too few cases ran in the time budget');
    await assertHealthyAfter(d);
  });
});

describe('fuzz: PROXY protocol headers (--proxy-protocol-in)', () => {
  let target: TestTarget;
  let d: FuzzDaemon;
  const okHeader = Buffer.from('PROXY TCP4 192.0.2.1 192.0.2.2 1234 80\r\n', 'latin1');
  let hello: Buffer;
  before(async () => {
    target = await startEchoTarget();
    hello = await realClientHello();
    d = await startFuzzDaemon([
      '--proxy-protocol-in',
      '--trusted-proxy',
      '127.0.0.1',
      '127.0.0.1:0',
      `127.0.0.1:${target.port}`,
    ]);
  });
  after(async () => {
    await d.stop();
    await target.close();
  });

  test('a valid v1 or v2 header is followed by a working session', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(v1Valid, v2Valid), async (header) => {
        runs++;
        await assertServing(d, '/', header);
      }),
      fuzzParams(200, 2_000),
    );
    console.log(`fuzz-proxy-header: ${runs} valid headers`);
    assert.ok(runs >= 10, 'too few cases ran in the time budget');
    await assertHealthyAfter(d);
  });

  test('malformed, truncated and mutated headers (then a request, a ClientHello or noise) end the connection; the daemon serves on', async () => {
    let runs = 0;
    const next = fc.oneof(fc.constant(REQUEST), fc.constant(hello), bytes(60));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(mutated(v1Valid), mutated(v2Valid), bytes(120)),
        next,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
        halfClose,
        async (header, rest, cuts, end) => {
          runs++;
          const data = Buffer.concat([header, rest]);
          const answer = await sendAndJudge(d.port, cutAt(data, cuts), end, 4_000);
          assertStatusIn(answer, ANSWERS, `header ${header.subarray(0, 32).toString('hex')}`);
          await assertServing(d, '/', okHeader);
        },
      ),
      fuzzParams(200, 5_000),
    );
    console.log(`fuzz-proxy-header: ${runs} malformed headers`);
    assert.ok(runs >= 10, 'too few cases ran in the time budget');
    await assertHealthyAfter(d);
  });
});
