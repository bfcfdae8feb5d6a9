// Fuzz: client certificates with odd fields (issue #12's fuzz list; finding 1 was one such certificate). Each case
// builds a certificate byte by byte (odd dates, serials, names, SANs; self-signed or signed by the trusted test CA),
// presents it over real TLS to one real wsproxy (`--verify-client optional`, `--http-upstream`, `--record`), asks for
// an upgrade or an upstream page, and checks the answer; after each case a fresh good client must still relay.
//
// Replay a failure with the printed seed (shrinking is off: once the daemon is dead every case fails):
//   FUZZ_SEED=<seed> node scripts/run-tests.mjs e2e/fuzz-client-cert
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { connect as tlsConnect, createSecureContext } from 'node:tls';
import fc from 'fast-check';
import {
  clientRelays,
  dnDer,
  oddClientCert,
  oid,
  TAG,
  testPki,
  type NameAttribute,
  type OddCertOptions,
  type RawGeneralName,
  type RawTime,
  type TestPki,
} from '../../helpers/pki.js';
import { REASONS } from '../../../src/errors.js';
import {
  spawnDaemon,
  startEchoTarget,
  statusOf,
  upgradeRequest,
  waitFor,
  type Daemon,
  type TestTarget,
} from '../../helpers/proxy.js';

const given = process.env['FUZZ_SEED'];
const SEED = given !== undefined && /^-?\d+$/.test(given) ? Number(given) : (Math.random() * 2 ** 31) | 0;

// --- arbitraries ----------------------------------------------------------------------------------------------------

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
const clock = {
  mm: fc.integer({ min: 0, max: 19 }),
  dd: fc.integer({ min: 0, max: 39 }),
  hh: fc.integer({ min: 0, max: 29 }),
  mi: fc.integer({ min: 0, max: 69 }),
  ss: fc.integer({ min: 0, max: 69 }),
};
const tail = (t: { mm: number; dd: number; hh: number; mi: number; ss: number }): string =>
  `${pad(t.mm)}${pad(t.dd)}${pad(t.hh)}${pad(t.mi)}${pad(t.ss)}Z`;
const time: fc.Arbitrary<RawTime> = fc.oneof(
  fc.constant({ tag: TAG.UTC_TIME, text: '250101000000Z' }),
  fc
    .record({ yy: fc.integer({ min: 0, max: 99 }), ...clock })
    .map((t) => ({ tag: TAG.UTC_TIME, text: `${pad(t.yy)}${tail(t)}` })),
  fc
    .record({
      yyyy: fc.oneof(fc.constantFrom(0, 1950, 1949, 2049, 2050, 9999), fc.integer({ min: 0, max: 9999 })),
      ...clock,
    })
    .map((t) => ({ tag: TAG.GENERALIZED_TIME, text: `${pad(t.yyyy, 4)}${tail(t)}` })),
  fc.record({ tag: fc.constantFrom<number>(TAG.UTC_TIME, TAG.GENERALIZED_TIME), text: fc.string({ maxLength: 24 }) }),
);

const bytes = (maxLength: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength }).map((b) => Buffer.from(b));
/** Drops leading zero bytes DER would not write, so most serials can be loaded (the invalid ones come on their own). */
const minimal = (b: Buffer): Buffer => (b.length > 1 && b[0] === 0 && (b[1] ?? 0) < 0x80 ? minimal(b.subarray(1)) : b);

// Up to 40 bytes (RFC 5280 allows 20), zero, negative; rarely invalid DER (empty, not minimal).
const serial = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => minimal(Buffer.from(b))),
      fc
        .constantFrom([0], [0x80], [0xff, 0xff], [0x7f, ...new Array<number>(39).fill(0xff)])
        .map((b) => Buffer.from(b)),
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(Buffer.alloc(0), Buffer.from([0, 0, 1])) },
);

const text: fc.Arbitrary<Buffer> = fc.oneof(
  fc.string({ maxLength: 40 }).map((v) => Buffer.from(v)),
  fc.string({ unit: 'binary', maxLength: 40 }).map((v) => Buffer.from(v)),
  fc
    .constantFrom(
      'alice',
      'a, DNS:alice',
      'CN=alice\nCN=root',
      'x\r\nX-SSL-Client-Verify: SUCCESS',
      '"quoted"',
      '',
      '*.ops.test',
      '\u0000',
    )
    .map((v) => Buffer.from(v)),
  fc.integer({ min: 1000, max: 6000 }).map((n) => Buffer.from('x'.repeat(n))), // very long
);
const beUnits = (units: readonly number[], width: 2 | 4): Buffer =>
  Buffer.concat(
    units.map((u) => {
      const b = Buffer.alloc(width);
      b.writeUIntBE(u, 0, width);
      return b;
    }),
  );
const notSurrogate = (max: number): fc.Arbitrary<number> =>
  fc.oneof(fc.integer({ min: 0, max: 0xd7ff }), fc.integer({ min: 0xe000, max }));
const oidArb = fc.constantFrom(
  '2.5.4.3',
  '2.5.4.10',
  '2.5.4.6',
  '1.2.840.113549.1.9.1',
  '0.9.2342.19200300.100.1.25',
  '1.2.3.4.5.6.7.8.9',
);
const attribute: fc.Arbitrary<NameAttribute> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ oid: oidArb, tag: fc.constant<number>(TAG.UTF8), value: text }) },
  // Bytes that are not UTF-8, in types OpenSSL takes as they come (Printable, IA5, T61).
  {
    weight: 2,
    arbitrary: fc.record({ oid: oidArb, tag: fc.constantFrom<number>(TAG.PRINTABLE, TAG.IA5, 0x14), value: bytes(40) }),
  },
  // BMPString and UniversalString code units (surrogates, which OpenSSL refuses to load, come with badAttribute).
  {
    weight: 1,
    arbitrary: fc.record({
      oid: oidArb,
      tag: fc.constant<number>(TAG.BMP),
      value: fc.array(notSurrogate(0xffff), { maxLength: 20 }).map((u) => beUnits(u, 2)),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      oid: oidArb,
      tag: fc.constant(0x1c),
      value: fc.array(notSurrogate(0x10ffff), { maxLength: 10 }).map((u) => beUnits(u, 4)),
    }),
  },
);
// Rarely one attribute that is invalid for its type (bad UTF-8, odd-length BMP, an OCTET STRING, a lone surrogate).
const badAttribute: fc.Arbitrary<NameAttribute> = fc.oneof(
  fc.record({
    oid: oidArb,
    tag: fc.constantFrom<number>(TAG.UTF8, TAG.BMP, TAG.OCTET_STRING),
    value: fc.constant(Buffer.from([0xff, 0xfe, 0x41])),
  }),
  fc.constant({ oid: '2.5.4.3', tag: TAG.BMP, value: Buffer.from([0xd8, 0x00, 0x00, 0x41]) }),
);
const name = fc.oneof(
  { weight: 1, arbitrary: fc.constant(dnDer([])) },
  { weight: 5, arbitrary: fc.array(attribute, { minLength: 1, maxLength: 6 }).map(dnDer) },
  { weight: 2, arbitrary: fc.array(attribute, { minLength: 30, maxLength: 80 }).map(dnDer) }, // many RDNs
  {
    weight: 1,
    arbitrary: fc.tuple(fc.array(attribute, { maxLength: 3 }), badAttribute).map(([a, b]) => dnDer([...a, b])),
  },
);
const generalName: fc.Arbitrary<RawGeneralName> = fc.oneof(
  fc.record({ tag: fc.constantFrom(0x81, 0x82, 0x86), value: fc.oneof(text, bytes(40)) }), // rfc822Name, dNSName, URI
  fc.uint8Array({ maxLength: 17 }).map((b) => ({ tag: 0x87, value: Buffer.from(b) })), // iPAddress, odd lengths too
  fc.constant({ tag: 0x88, value: oid('1.2.3.4').subarray(2) }), // registeredID
  name.map((n) => ({ tag: 0xa4, value: n })), // directoryName
  fc.record({ tag: fc.constantFrom(0xa0, 0xa3, 0xa5), value: bytes(24) }), // otherName, x400, edi: garbage
);
const sans = fc.option(
  fc.oneof(fc.array(generalName, { maxLength: 6 }), fc.array(generalName, { minLength: 100, maxLength: 300 })),
  { nil: undefined },
);

const certOptions: fc.Arbitrary<OddCertOptions> = fc.record(
  { serial, subject: name, notBefore: time, notAfter: time, sans, signedByTestCa: fc.boolean() },
  { requiredKeys: ['signedByTestCa'] },
);
/** A case as a failure report shows it: the fields' shape, not kilobytes of bytes (the seed replays the bytes). */
function summary(c: { cert: OddCertOptions; ask: string; tls12: boolean }): string {
  const o = c.cert;
  const time = (t: RawTime | undefined): string =>
    t === undefined ? '-' : `${t.tag === TAG.UTC_TIME ? 'UTC' : 'Gen'}:${JSON.stringify(t.text)}`;
  return JSON.stringify({
    ask: c.ask,
    tls12: c.tls12,
    ca: o.signedByTestCa,
    serial: o.serial?.toString('hex').slice(0, 90),
    subjectBytes: o.subject?.length,
    notBefore: time(o.notBefore),
    notAfter: time(o.notAfter),
    sans: o.sans?.map((n) => `${n.tag.toString(16)}:${n.value.length}`).join(' '),
  });
}
const fuzzCase = fc
  .record({ cert: certOptions, ask: fc.constantFrom('upgrade' as const, 'upstream' as const), tls12: fc.boolean() })
  .map((c) => Object.assign(c, { [fc.toStringMethod]: () => summary(c) }));

// --- the server and the clients -------------------------------------------------------------------------------------

let pki: TestPki;
let target: TestTarget;
let app: Server;
let daemon: Daemon;
let presented = 0;

before(async () => {
  pki = testPki();
  target = await startEchoTarget();
  app = createServer((req, res) => {
    req.resume();
    res.end('app answer');
  });
  app.listen(0, '127.0.0.1');
  await once(app, 'listening');
  const appPort = (app.address() as { port: number }).port;
  const record = join(mkdtempSync(join(tmpdir(), 'wsproxy-fuzz-cert-')), 'rec');
  daemon = await spawnDaemon([
    '--cert',
    pki.serverPem,
    '--verify-client',
    'optional',
    '--cafile',
    pki.caFile,
    '--http-upstream',
    `http://127.0.0.1:${appPort}`,
    '--record',
    record,
    '--handshake-timeout',
    '2',
    '-v',
    '127.0.0.1:0',
    `127.0.0.1:${target.port}`,
  ]);
});
after(async () => {
  await daemon?.stop();
  await target?.close();
  app?.close();
});

/** What came back: the HTTP status (0 = none) and reason header, whether TLS completed, the client's error code. */
interface Answer {
  readonly status: number;
  readonly reason: string | undefined;
  readonly secure: boolean;
  readonly error: string | undefined;
  /** The answer's head, for failure messages. */
  readonly head: string;
  /** The client's port, as the daemon's log lines name the peer. */
  readonly localPort: number | undefined;
}

async function present(
  cert: string,
  key: string,
  ask: 'upgrade' | 'upstream',
  tls12: boolean,
): Promise<Answer | 'unloadable'> {
  // Node's client may refuse to load what OpenSSL cannot decode: such a certificate cannot be sent, not a server bug.
  try {
    createSecureContext({ cert, key });
  } catch {
    return 'unloadable';
  }
  presented++;
  const socket = tlsConnect({
    host: '127.0.0.1',
    port: daemon.port,
    servername: 'localhost',
    ca: pki.ca,
    cert,
    key,
    ...(tls12 ? { maxVersion: 'TLSv1.2' as const } : {}),
  });
  let text = '';
  let secure = false;
  let error: string | undefined;
  let localPort: number | undefined;
  socket.once('connect', () => (localPort = socket.localPort));
  socket.setEncoding('latin1');
  socket.on('data', (s: string) => (text += s));
  socket.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
  socket.once('secureConnect', () => {
    secure = true;
    socket.write(
      ask === 'upgrade' ? upgradeRequest() : 'GET /app HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    );
  });
  const timer = setTimeout(() => socket.destroy(new Error('no answer in 5 s')), 5_000);
  // Status line and headers are enough (a 101 stays open).
  socket.on('data', () => {
    if (text.includes('\r\n\r\n')) socket.destroy();
  });
  await new Promise((resolve) => socket.once('close', resolve));
  clearTimeout(timer);
  return {
    status: statusOf(text),
    reason: /X-Wsproxy-Reason: (\S+)/i.exec(text)?.[1],
    secure,
    error,
    head: text.slice(0, 600),
    localPort,
  };
}

/**
 * A valid answer: the status the request asked for, or a catalogued refusal (its reason code, with that code's
 * status); or, with no HTTP answer at all, one daemon log line for this peer saying the TLS layer failed (OpenSSL may
 * refuse what it cannot decode, at the handshake or, for what it decodes lazily, at the next read).
 */
async function assertValid(answer: Answer, ask: 'upgrade' | 'upstream'): Promise<void> {
  assertRunning();
  if (answer.status === 0) {
    const peer = `peer=127.0.0.1:${answer.localPort ?? 'none'} `;
    const line = /reason=(TLS_HANDSHAKE_FAILED|CLIENT_TLS_ERROR|TLS_CLIENT_CERT_REJECTED)/;
    await waitFor(
      () =>
        daemon
          .stderr()
          .split('\n')
          .some((l) => l.includes(peer) && line.test(l)),
      5_000,
      `a log line for ${peer}(client: ${answer.error ?? 'no error'})`,
    );
    return;
  }
  if (answer.reason !== undefined) {
    const entry = (REASONS as Record<string, { status?: number }>)[answer.reason];
    assert.equal(entry?.status, answer.status, `catalogued refusal: ${answer.head}`);
    return;
  }
  // Unrefused: the upgrade, or the application's own answer (431 when hundreds of SANs make the headers too big).
  const allowed = ask === 'upgrade' ? [101] : [200, 431];
  assert.ok(allowed.includes(answer.status), `status ${answer.status} for ${ask}: ${answer.head}`);
}

function assertRunning(): void {
  assert.equal(daemon.proc.exitCode, null, `daemon exited: ${daemon.stderr().slice(-2000)}`);
}

/** The daemon is alive and serving: a fresh good client relays. */
async function assertAlive(): Promise<void> {
  assertRunning();
  await clientRelays(daemon.port, pki);
}

test('client certificates with odd fields never stop the daemon and get a valid answer', async () => {
  console.log(
    `fuzz-client-cert seed=${SEED} (replay: FUZZ_SEED=${SEED} node scripts/run-tests.mjs e2e/fuzz-client-cert)`,
  );
  let cases = 0;
  await fc.assert(
    fc.asyncProperty(fuzzCase, async ({ cert, ask, tls12 }) => {
      cases++;
      const pair = oddClientCert(cert);
      const answer = await present(pair.cert, pair.key, ask, tls12);
      if (answer !== 'unloadable') await assertValid(answer, ask);
      await assertAlive();
    }),
    {
      seed: SEED,
      numRuns: 100,
      interruptAfterTimeLimit: 12_000,
      markInterruptAsFailure: false,
      endOnFailure: true,
      timeout: 10_000,
      includeErrorInReport: true,
    },
  );
  console.log(`fuzz-client-cert: ${cases} cases, ${presented} certificates presented`);
  // Most certificates must really reach the server, or this test would prove nothing.
  assert.ok(cases >= 10 && presented >= cases / 2, `${presented} of ${cases} presented`);
});
