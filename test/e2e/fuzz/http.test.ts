// Fuzz (issue #12): HTTP request lines and headers, and WebSocket upgrade headers, to the plain listener of the real
// daemon. Seed and replay: see test/helpers/fuzz.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEchoTarget, testCertificate, type TestTarget } from '../../helpers/proxy.js';
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

// Answers a request may get: a page, a redirect, 101 for a good upgrade, or a catalogued refusal. Never 500/502/503.
const ANSWERS = new Set([
  101, 200, 204, 206, 301, 302, 304, 400, 403, 404, 405, 408, 413, 414, 416, 417, 421, 426, 431, 501, 505,
]);

const oddChar = fc.constantFrom(
  '\0',
  '\x7f',
  '\xff',
  '\r',
  '\n',
  '\t',
  ' ',
  ':',
  '%',
  '\u00e9',
  '\u2028',
  '"',
  ',',
  ';',
  '=',
);
/** A string of printable ASCII with odd bytes mixed in (written as latin1, so each char is one byte). */
const oddString = (max: number): fc.Arbitrary<string> =>
  fc
    .array(fc.oneof({ arbitrary: fc.string({ maxLength: 6 }), weight: 4 }, { arbitrary: oddChar, weight: 1 }), {
      maxLength: max,
    })
    .map((a) => a.join(''));
const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,12}$/);

/** Mostly `usual`, sometimes `odd`: most cases get past the request line and reach the code behind it. */
const mostly = <T>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ arbitrary: usual, weight: 3 }, { arbitrary: odd, weight: 1 });
const method = mostly(
  fc.constantFrom('GET', 'HEAD'),
  fc.oneof(
    fc.constantFrom('POST', 'PUT', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE', 'PATCH', 'PRI', 'get'),
    token,
    oddString(3),
  ),
);
const pathPiece = fc.constantFrom(
  '/',
  'index.html',
  'sub/',
  'page.html',
  '..',
  '.',
  '%',
  '%2',
  '%2e%2e',
  '%2f',
  '%5c',
  '\\',
  '%00',
  '%C3%A9',
  '%ED%A0%80',
  '%FF',
  '%c0%af',
  ';',
  '?',
  '#',
  '//',
  'é',
  '\u2028',
);
const target = fc.oneof(
  fc.constantFrom(
    '/',
    '/websockify',
    '/index.html',
    '/sub/',
    '/sub/page.html',
    '*',
    'http://127.0.0.1/',
    '//x',
    '/%00',
    '/..%2f..%2fetc/passwd',
    '/?token=a',
    '/a b',
  ),
  fc.array(pathPiece, { maxLength: 8 }).map((a) => `/${a.join('')}`),
  fc.tuple(fc.constantFrom('/', '/?', '/x/'), oddString(12)).map(([a, b]) => a + b),
  fc.nat(20_000).map((n) => `/${'a'.repeat(n)}`),
);
const version = mostly(
  fc.constantFrom('HTTP/1.1', 'HTTP/1.0'),
  fc.oneof(fc.constantFrom('HTTP/2.0', 'HTTP/0.9', 'HTTP/1.1x', 'HTTP/9.9', 'http/1.1', ''), oddString(2)),
);
const headerName = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      'Host',
      'Connection',
      'Upgrade',
      'Content-Length',
      'Transfer-Encoding',
      'Origin',
      'Expect',
      'Sec-WebSocket-Key',
      'Sec-WebSocket-Version',
      'Sec-WebSocket-Protocol',
      'Sec-WebSocket-Extensions',
      'Forwarded',
      'X-Forwarded-For',
      'Authorization',
      'Cookie',
      'Range',
      'If-Modified-Since',
      'Accept-Encoding',
    ),
    weight: 4,
  },
  token,
  oddString(3),
);
/** Client addresses as balancers write them (Forwarded `for=` nodes, X-Forwarded-For entries), odd ones too. */
const forwardedNode = fc.constantFrom(
  '192.0.2.9',
  '192.0.2.9:8080',
  '"[2001:db8::1]:443"',
  '[2001:db8::1]',
  '"[fe80::1%25eth0]"',
  'unknown',
  '_hidden',
  '::ffff:10.0.0.1',
  '1.2.3.4:99999',
  '[::1',
  '"',
  '"\\"',
  '300.1.1.1',
  '127.0.0.1',
);
const forwardedValue = fc.oneof(
  fc
    .array(
      fc.tuple(fc.constantFrom('for=', 'For = ', 'by=', 'proto=', ''), forwardedNode, fc.constantFrom(', ', ';', ',')),
      { minLength: 1, maxLength: 4 },
    )
    .map((a) => a.map(([k, v, sep]) => k + v + sep).join('')),
  fc.array(forwardedNode, { minLength: 1, maxLength: 6 }).map((a) => a.join(', ')),
);
const headerValue = fc.oneof(
  forwardedValue,
  {
    arbitrary: fc.constantFrom(
      '127.0.0.1',
      'websocket',
      'Upgrade',
      'keep-alive, Upgrade',
      'close',
      '0',
      '5',
      '-1',
      '99999999999999999999',
      'chunked',
      'gzip, chunked',
      '100-continue',
      'dGhlIHNhbXBsZSBub25jZQ==',
      '13',
      'binary',
      'base64',
      'permessage-deflate; client_max_window_bits',
      'foo',
      'bytes=0-1',
      'bytes=5-1,0-',
      'Basic Zm9vOmJhcg==',
      'Basic !!',
      'Thu, 01 Jan 2099 00:00:00 GMT',
      'gzip',
    ),
    weight: 4,
  },
  oddString(8),
  fc.nat(9_000).map((n) => 'v'.repeat(n)),
);
/** A header line, sometimes with obs-fold (a continuation line) or a missing colon. */
const headerLine = fc
  .tuple(
    headerName,
    headerValue,
    mostly(fc.constant('plain'), fc.constantFrom('fold', 'nocolon', 'space-before-colon')),
  )
  .map(([n, v, shape]) =>
    shape === 'fold'
      ? `${n}: ${v}\r\n  folded`
      : shape === 'nocolon'
        ? `${n} ${v}`
        : shape === 'space-before-colon'
          ? `${n} : ${v}`
          : `${n}: ${v}`,
  );
/** Many copies of one line: header-count limits. */
const manyHeaders = fc
  .tuple(fc.integer({ min: 100, max: 3_000 }), headerLine)
  .map(([n, line]) => Array.from({ length: n }, () => line));
const eol = mostly(fc.constant('\r\n'), fc.constantFrom('\n', '\r'));

/** Sends a request (latin1) in random chunks, half-closes, and judges the first answer. */
async function requestAndJudge(
  port: number,
  request: string,
  cuts: number[],
  context: string,
  tlsCa?: string,
  allowed = ANSWERS,
): Promise<void> {
  const socket = await rawConnect(port, tlsCa);
  const done = untilClosed(socket, 6_000);
  await writeChunks(socket, cutAt(Buffer.from(request, 'latin1'), cuts));
  socket.end();
  assertStatusIn(judgeAnswer(await done), allowed, context);
}

const cutsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 5 });

describe('fuzz: HTTP requests to the plain listener', () => {
  let target_: TestTarget;
  let d: FuzzDaemon;
  let ca: string;
  before(async () => {
    target_ = await startEchoTarget();
    ca = (await testCertificate()).pem;
    const web = mkdtempSync(join(tmpdir(), 'wsproxy-fuzz-web-'));
    mkdirSync(join(web, 'sub'));
    writeFileSync(join(web, 'index.html'), '<p>index</p>');
    writeFileSync(join(web, 'sub', 'page.html'), '<p>page</p>');
    d = await startFuzzDaemon([
      '--web',
      web,
      '--trusted-proxy',
      '127.0.0.1',
      '--trust-forwarded',
      '127.0.0.1:0',
      `127.0.0.1:${target_.port}`,
    ]);
  });
  after(async () => {
    await d.stop();
    await target_.close();
  });

  test('request lines and headers (odd bytes, folds, bare CR/LF, huge counts, pipelined; plain and TLS) get a catalogued answer', async () => {
    let runs = 0;
    const headers = fc.oneof(
      { arbitrary: fc.array(headerLine, { maxLength: 12 }), weight: 5 },
      { arbitrary: manyHeaders, weight: 1 },
    );
    await fc.assert(
      fc.asyncProperty(
        method,
        target,
        version,
        mostly(fc.constant(true), fc.constant(false)),
        headers,
        eol,
        fc.constantFrom('', '', 'again', 'junk'),
        fc.boolean(),
        cutsArb,
        async (m, t, v, host, lines, nl, then, tls, cuts) => {
          runs++;
          const all = host ? ['Host: 127.0.0.1', ...lines] : lines;
          const one = `${m} ${t} ${v}${nl}${all.map((l) => l + nl).join('')}${nl}`;
          // Pipelined: the same request again, or bytes that are no request, right behind the first.
          const request = one + (then === 'again' ? one : then === 'junk' ? '\x16\x03\x01 junk\r\n\r\n' : '');
          // HTTP/1.1 without any Host line is refused, upgrade or not (RFC 9112 §3.2, RFC 6455 §4.1).
          const hostless = v === 'HTTP/1.1' && !all.some((l) => /^host/i.test(l));
          const allowed = hostless ? new Set([...ANSWERS].filter((st) => st >= 400)) : ANSWERS;
          await requestAndJudge(
            d.port,
            request,
            cuts,
            `${tls ? 'TLS ' : ''}request ${JSON.stringify(request.slice(0, 120))}`,
            tls ? ca : undefined,
            allowed,
          );
          await assertServing(d);
        },
      ),
      fuzzParams(500, 6_000),
    );
    console.log(`fuzz-http: ${runs} requests`);
    assert.ok(runs >= 10, 'too few cases ran in the time budget');
    await assertHealthyAfter(d);
  });

  test('WebSocket upgrade header variants get 101 or a catalogued refusal', async () => {
    let runs = 0;
    const optional = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined, freq: 4 });
    const variant = fc.record({
      upgrade: optional(fc.constantFrom('websocket', 'WebSocket', ' websocket ', 'websocket, h2c', 'h2c', '')),
      connection: optional(fc.constantFrom('Upgrade', 'upgrade', 'keep-alive, Upgrade', 'close', 'Upgrade, close', '')),
      key: optional(
        fc.oneof(
          fc.constantFrom('dGhlIHNhbXBsZSBub25jZQ==', 'dGhlIHNhbXBsZSBub25jZQ', '', '=='),
          fc.base64String({ maxLength: 40 }),
          oddString(4),
        ),
      ),
      version: optional(fc.oneof(fc.constantFrom('13', '8', '7', '14', ' 13', '13, 8', '0x0d', ''), oddString(2))),
      protocol: optional(
        fc.oneof(
          fc.constantFrom('binary', 'base64', 'base64, binary', 'binary, binary', 'chat', ',', ''),
          fc.array(token, { maxLength: 5 }).map((a) => a.join(', ')),
          oddString(4),
        ),
      ),
      extensions: optional(
        fc.oneof(
          fc.constantFrom(
            'permessage-deflate',
            'permessage-deflate; client_max_window_bits',
            'permessage-deflate; server_max_window_bits=8',
            'x-unknown',
            'permessage-deflate; client_max_window_bits=99',
          ),
          oddString(4),
        ),
      ),
      origin: optional(
        fc.oneof(
          fc.constantFrom('http://127.0.0.1', 'http://evil.example', 'null', 'http://127.0.0.1:1'),
          oddString(4),
        ),
      ),
      forwarded: optional(forwardedValue),
      fillers: fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: fc.nat(2_500), weight: 1 }),
      // A body on the upgrade request: its bytes are the first WebSocket bytes if the upgrade goes through.
      body: optional(
        fc.constantFrom(
          'Content-Length: 5\r\n\r\nhello',
          'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
          'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
          'Content-Length: 2\r\n\r\n\x88\x80',
        ),
      ),
      twice: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'GET', 'POST', 'HEAD'), variant, cutsArb, async (m, v, cuts) => {
        runs++;
        const lines = ['Host: 127.0.0.1'];
        const add = (name: string, value: string | undefined): void => {
          if (value === undefined) return;
          lines.push(`${name}: ${value}`);
          if (v.twice && name.startsWith('Sec-')) lines.push(`${name}: ${value}`);
        };
        add('Upgrade', v.upgrade);
        add('Connection', v.connection);
        add('Sec-WebSocket-Key', v.key);
        add('Sec-WebSocket-Version', v.version);
        add('Sec-WebSocket-Protocol', v.protocol);
        add('Sec-WebSocket-Extensions', v.extensions);
        add('Origin', v.origin);
        add(v.twice ? 'Forwarded' : 'X-Forwarded-For', v.forwarded);
        for (let i = 0; i < v.fillers; i++) lines.push(`X-F${i}: ${i}`);
        const request = `${m} /websockify HTTP/1.1\r\n${lines.join('\r\n')}\r\n${v.body ?? '\r\n'}`;
        await requestAndJudge(d.port, request, cuts, `upgrade ${JSON.stringify(request)}`);
        await assertServing(d);
      }),
      fuzzParams(400, 4_000),
    );
    console.log(`fuzz-http: ${runs} upgrades`);
    assert.ok(runs >= 10, 'too few cases ran in the time budget');
    await assertHealthyAfter(d);
  });

  test('slowloris: headers that trickle in forever are cut by the 1 s deadline (first or kept-alive request, plain or TLS)', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 20, max: 200 }),
        fc.constantFrom(
          'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ',
          'GET /websockify HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nX-Slow: ',
          'GET / HT',
        ),
        async (tls, keptAlive, gapMs, start) => {
          runs++;
          const socket = await rawConnect(d.port, tls ? ca : undefined);
          const t0 = Date.now();
          const done = untilClosed(socket, 6_000);
          if (keptAlive) socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
          socket.write(start);
          const timer = setInterval(() => socket.write('a'), gapMs);
          try {
            await done;
          } finally {
            clearInterval(timer);
          }
          // The listener's deadline for a first request, Node's headersTimeout (checked every second) for a later one.
          assert.ok(Date.now() - t0 < (keptAlive ? 3_500 : 2_500), `open for ${Date.now() - t0} ms`);
          await assertServing(d);
        },
      ),
      fuzzParams(4, 10_000, 8_000),
    );
    console.log(`fuzz-http: ${runs} slow clients`);
    await assertHealthyAfter(d);
  });
});
