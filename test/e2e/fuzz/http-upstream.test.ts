// Fuzzing HTTP framing towards --http-upstream (issue #12): generated requests (methods, Transfer-Encoding and
// Content-Length combinations, chunk sizes with bad hex and overflow, chunk extensions, trailers, obs-fold, bare LF,
// duplicated headers, bytes after the message) over raw sockets through the real CLI to an upstream that parses and
// logs every request. After every case: the daemon is alive, the client got valid HTTP answers (or nothing yet, for a
// message that is still incomplete), and the upstream never parsed more requests than wsproxy answered.
// Bounded to about 10 s. Replay a failure with FUZZ_SEED=<seed printed below>.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { spawnDaemon, startEchoTarget, waitFor, type Daemon, type TestTarget } from '../../helpers/proxy.js';
import { rawExchange, startLoggingUpstream, type LoggingUpstream } from '../../helpers/raw-http.js';

const SEED =
  process.env['FUZZ_SEED'] === undefined ? Math.floor(Math.random() * 0x7fffffff) : Number(process.env['FUZZ_SEED']);
const TIME_LIMIT_MS = 10_000;
const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\nX-SSL-Client-Verify: SUCCESS\r\n\r\n';

/** One generated request, as parts that `render` turns into bytes. */
interface Case {
  method: string;
  body: string;
  te: string[] | null;
  cl: string[] | null;
  chunkSize: string;
  trailer: string;
  extraHeader: string;
  bareLf: 'none' | 'head' | 'body';
  connectionClose: boolean;
  after: string;
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'),
  body: fc.oneof(
    { arbitrary: fc.constant(''), weight: 1 },
    { arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 40 }), weight: 2 },
    { arbitrary: fc.constant(SMUGGLED), weight: 2 },
  ),
  te: fc.option(
    fc.array(
      fc.constantFrom(
        'chunked',
        'Chunked',
        'gzip',
        'gzip, chunked',
        'chunked, gzip',
        'xchunked',
        ' chunked',
        ',chunked',
        'identity',
        'chunked;q=1',
      ),
      { minLength: 1, maxLength: 2 },
    ),
    { freq: 3 },
  ),
  cl: fc.option(
    fc.array(
      fc.constantFrom(
        'exact',
        'short',
        '+1',
        '0x1',
        '1,1',
        '1 1',
        '',
        '-1',
        'lead0',
        '99999999999999999999999',
        '9007199254740993',
      ),
      { minLength: 1, maxLength: 2 },
    ),
    { freq: 2 },
  ),
  chunkSize: fc.constantFrom(
    'exact',
    'upper',
    'lead0',
    'g',
    '0x',
    '-1',
    'ffffffffffffffffffffff',
    ' ',
    'exact;ext=1',
    'exact;e="q"',
    'exact ;x',
    'exact;',
  ),
  trailer: fc.constantFrom(
    '',
    'X-Forwarded-For: 6.6.6.6\r\n',
    'X-T: a\r\n b\r\n',
    'Content-Length: 5\r\n',
    'Transfer-Encoding: chunked\r\n',
  ),
  extraHeader: fc.constantFrom(
    '',
    'X-Fold: a\r\n b\r\n',
    'Host: evil.example\r\n',
    'X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 7.7.7.7\r\n',
    'X_Real_IP: 6.6.6.6\r\n',
    'Connection: content-length\r\n',
    'Expect: 100-continue\r\n',
  ),
  bareLf: fc.constantFrom('none', 'none', 'head', 'body'),
  connectionClose: fc.constantFrom(true, true, true, false),
  after: fc.constantFrom(
    '',
    '',
    'GET /pipelined HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    'garbage\r\n\r\n',
  ),
});

function chunkLine(size: number, variant: string): string {
  const hex = size.toString(16);
  if (variant === 'exact') return hex;
  if (variant === 'upper') return hex.toUpperCase();
  if (variant === 'lead0') return `000${hex}`;
  if (variant.startsWith('exact')) return hex + variant.slice('exact'.length);
  return variant;
}

/** The request bytes of a case. Bodies are never shorter than a valid length claims, so no case waits for more. */
function render(c: Case): string {
  let body = c.body;
  if (c.te !== null) {
    const half = Math.ceil(body.length / 2);
    const parts = body === '' ? [] : [body.slice(0, half), body.slice(half)].filter((p) => p !== '');
    body = `${parts.map((p, i) => `${chunkLine(p.length, i === 0 ? c.chunkSize : 'exact')}\r\n${p}\r\n`).join('')}0\r\n${c.trailer}\r\n`;
  }
  let head = `${c.method} /app HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  for (const te of c.te ?? []) head += `Transfer-Encoding: ${te}\r\n`;
  for (const cl of c.cl ?? [])
    head += `Content-Length: ${cl === 'exact' ? body.length : cl === 'short' ? Math.max(0, body.length - 3) : cl === 'lead0' ? `00${body.length}` : cl}\r\n`;
  head += c.extraHeader;
  if (c.connectionClose) head += 'Connection: close\r\n';
  if (c.bareLf === 'head') head = head.replace('\r\nHost', '\nHost');
  if (c.bareLf === 'body') body = body.replace('\r\n', '\n');
  return `${head}\r\n${body}${c.after}`;
}

let app: LoggingUpstream;
let echo: TestTarget;
let daemon: Daemon;

before(async () => {
  app = await startLoggingUpstream();
  echo = await startEchoTarget();
  daemon = await spawnDaemon([
    '--http-upstream',
    `http://127.0.0.1:${app.port}/`,
    '127.0.0.1:0',
    `127.0.0.1:${echo.port}`,
  ]);
});
after(async () => {
  await daemon.stop();
  await app.close();
  await echo.close();
});

/** Sends a marker request and waits until the upstream parsed it: whatever a case made it parse is then in `seen`. */
async function upstreamCountAfterCase(): Promise<number> {
  const marker = `/marker-${Math.random().toString(36).slice(2)}`;
  const r = await rawExchange(daemon.port, `GET ${marker} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, [
    'GET',
  ]);
  assert.deepEqual(r.statuses, [200], `the daemon still serves: ${r.text.slice(0, 200)}`);
  await waitFor(() => app.seen.some((s) => s.url === marker), 5_000, 'the marker request at the upstream');
  const count = app.seen.filter((s) => s.url !== marker).length;
  const bad = app.seen.filter((s) => s.bad !== undefined);
  assert.deepEqual(bad, [], 'the upstream never received a request it could not parse');
  app.seen.length = 0;
  return count;
}

test(`fuzz: HTTP framing towards --http-upstream (seed ${SEED})`, async () => {
  console.log(`fuzz-http-upstream: FUZZ_SEED=${SEED}`);
  let cases = 0;
  await fc.assert(
    fc.asyncProperty(caseArb, async (c) => {
      cases++;
      const bytes = render(c);
      const r = await rawExchange(daemon.port, bytes, [c.method, 'GET', 'GET', 'GET'], {
        timeoutMs: 1_500,
        idleMs: 400,
      });
      assert.equal(daemon.proc.exitCode, null, `the daemon exited: ${daemon.stderr().slice(-2000)}`);
      assert.equal(daemon.proc.signalCode, null);
      // (a 100 Continue alone is a valid answer to a body still awaited)
      if (r.text !== '')
        assert.ok(
          /^HTTP\/1\.1 [1-5]\d\d /.test(r.text) && (r.statuses.length > 0 || r.text.startsWith('HTTP/1.1 100 ')),
          `not an HTTP answer: ${JSON.stringify(r.text.slice(0, 200))}`,
        );
      for (const s of r.statuses) assert.ok(s >= 100 && s <= 599, `status ${s}`);
      if (r.closedByServer && r.statuses.length === 0)
        assert.fail(`closed without an answer: ${JSON.stringify(bytes)}`);
      const parsed = await upstreamCountAfterCase();
      assert.ok(
        parsed <= r.statuses.length,
        `the upstream parsed ${parsed} requests, wsproxy answered ${r.statuses.length} (smuggling): ${JSON.stringify(bytes)}`,
      );
    }),
    {
      seed: SEED,
      numRuns: 10_000,
      interruptAfterTimeLimit: TIME_LIMIT_MS,
      markInterruptAsFailure: false,
      endOnFailure: true,
      includeErrorInReport: true,
    },
  );
  console.log(`fuzz-http-upstream: ${cases} cases`);
  assert.ok(cases >= 10, `only ${cases} cases ran in ${TIME_LIMIT_MS} ms`);
});
