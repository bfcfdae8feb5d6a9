// --http-upstream request smuggling (issue #12, findings 3 and 5): bodies are framed towards the application,
// ambiguous framing is refused before anything is proxied, and header names with '_' do not reach the application.
// Literal bytes over raw sockets, through a real wsproxy, to an upstream that parses and logs every request it sees.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  spawnDaemon,
  startEchoTarget,
  startProxy,
  startTarget,
  waitFor,
  type TestProxy,
  type TestTarget,
} from '../../helpers/proxy.js';
import {
  headerOf,
  rawExchange,
  startLoggingUpstream,
  type LoggedRequest,
  type LoggingUpstream,
} from '../../helpers/raw-http.js';

// What an attacker hides in a body: a second request with forged facts, which wsproxy never checked.
const SMUGGLED =
  'GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\nX-SSL-Client-Verify: SUCCESS\r\nX-SSL-Client-S-DN-CN: admin\r\nX-Forwarded-For: 6.6.6.6\r\nAuthorization: Basic YWRtaW46eA==\r\n\r\n';

function chunkedBody(text: string): string {
  return `${text.length.toString(16)}\r\n${text}\r\n0\r\n\r\n`;
}

/** Waits until the upstream has parsed a marker request sent after the case, so anything smuggled is in `seen`. */
async function settle(proxy: TestProxy, app: LoggingUpstream): Promise<LoggedRequest[]> {
  const marker = `/marker-${Math.random().toString(36).slice(2)}`;
  const r = await rawExchange(proxy.port, `GET ${marker} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, ['GET'], {
    expected: 1,
  });
  assert.deepEqual(r.statuses, [200]);
  await waitFor(() => app.seen.some((s) => s.url === marker), 5_000, 'the marker request');
  const out = app.seen.filter((s) => s.url !== marker);
  app.seen.length = 0;
  return out;
}

describe('--http-upstream framing (no request smuggling)', () => {
  let app: LoggingUpstream;
  let echo: TestTarget;
  let proxy: TestProxy;
  before(async () => {
    app = await startLoggingUpstream();
    echo = await startEchoTarget();
    proxy = await startProxy(echo.port, { httpUpstream: `http://127.0.0.1:${app.port}/` });
  });
  after(async () => {
    await proxy.close();
    await app.close();
    await echo.close();
  });

  for (const method of ['GET', 'HEAD', 'DELETE', 'OPTIONS', 'POST']) {
    test(`${method} with a chunked body: the upstream sees one request, its body framed`, async () => {
      const raw = `${method} /app HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n${chunkedBody(SMUGGLED)}`;
      const r = await rawExchange(proxy.port, raw, [method], { expected: 1 });
      assert.deepEqual(r.statuses, [200]);
      const seen = await settle(proxy, app);
      assert.deepEqual(
        seen.map((s) => `${s.method} ${s.url}${s.bad ?? ''}`),
        [`${method} /app`],
        'exactly one request, no smuggled one',
      );
      assert.equal(seen[0]?.body.toString('latin1'), SMUGGLED, 'the body arrives whole, as a body');
      assert.equal(headerOf(seen[0], 'transfer-encoding'), 'chunked');
      assert.equal(headerOf(seen[0], 'content-length'), undefined);
    });
  }

  test('a Content-Length body stays framed even when Connection names content-length', async () => {
    const raw = `GET /app HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive, Content-Length\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`;
    const r = await rawExchange(proxy.port, raw, ['GET'], { expected: 1 });
    assert.deepEqual(r.statuses, [200]);
    const seen = await settle(proxy, app);
    assert.deepEqual(
      seen.map((s) => `${s.method} ${s.url}${s.bad ?? ''}`),
      ['GET /app'],
    );
    assert.equal(headerOf(seen[0] as LoggedRequest, 'content-length'), String(SMUGGLED.length));
    assert.equal(seen[0]?.body.toString('latin1'), SMUGGLED);
  });

  // Each followed by a pipelined request that must not be served either: its framing was a guess.
  const ambiguous: [string, string, string][] = [
    ['TE gzip, chunked', 'Transfer-Encoding: gzip, chunked\r\n', 'BAD_FRAMING'],
    ['TE gzip and TE chunked on two lines', 'Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n', 'BAD_FRAMING'],
    ['TE ",chunked"', 'Transfer-Encoding: ,chunked\r\n', 'BAD_FRAMING'],
    ['TE with Content-Length', 'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n', 'BAD_REQUEST'],
    ['TE chunked, gzip', 'Transfer-Encoding: chunked, gzip\r\n', 'BAD_REQUEST'],
    // llhttp refuses these only at the body, after the request was handed over: wsproxy answers first.
    ['TE gzip', 'Transfer-Encoding: gzip\r\n', 'BAD_FRAMING'],
    ['TE xchunked', 'Transfer-Encoding: xchunked\r\n', 'BAD_FRAMING'],
    ['TE chunked twice', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n', 'BAD_REQUEST'],
  ];
  for (const [name, headers, reason] of ambiguous) {
    test(`${name}: 400 ${reason}, connection closed, the upstream saw nothing`, async () => {
      const raw = `POST /app HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n${chunkedBody('hello')}GET /pipelined HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
      const before = proxy.logs.filter((l) => l.includes('BAD_FRAMING')).length;
      const r = await rawExchange(proxy.port, raw, ['POST', 'GET']);
      assert.equal(r.closedByServer, true, 'the connection is closed');
      assert.deepEqual(r.statuses, [400], r.text);
      assert.deepEqual(r.reasons, [reason]);
      assert.deepEqual(await settle(proxy, app), [], 'the upstream saw no request');
      const lines = proxy.logs.filter((l) => l.includes('BAD_FRAMING')).length - before;
      assert.equal(lines, reason === 'BAD_FRAMING' ? 1 : 0, 'one log line with the reason code');
    });
  }

  const lengths: [string, string, string][] = [
    ['Content-Length twice', 'Content-Length: 5\r\nContent-Length: 5\r\n', 'BAD_REQUEST'],
    ['differing Content-Lengths', 'Content-Length: 5\r\nContent-Length: 6\r\n', 'BAD_REQUEST'],
    ['Content-Length +5', 'Content-Length: +5\r\n', 'BAD_REQUEST'],
    ['Content-Length 0x5', 'Content-Length: 0x5\r\n', 'BAD_REQUEST'],
    ['Content-Length 5, 5', 'Content-Length: 5, 5\r\n', 'BAD_REQUEST'],
    ['Content-Length above 2^53', 'Content-Length: 9007199254740993\r\n', 'BAD_FRAMING'],
  ];
  for (const [name, headers, reason] of lengths) {
    test(`${name}: 400 ${reason}, connection closed, the upstream saw nothing`, async () => {
      const raw = `POST /app HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\nhelloGET /pipelined HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
      const r = await rawExchange(proxy.port, raw, ['POST', 'GET']);
      assert.equal(r.closedByServer, true);
      assert.deepEqual(r.statuses, [400], r.text);
      assert.deepEqual(r.reasons, [reason]);
      assert.deepEqual(await settle(proxy, app), []);
    });
  }

  test('Transfer-Encoding in an HTTP/1.0 request: 400 BAD_FRAMING, the upstream saw nothing', async () => {
    const raw = `POST /app HTTP/1.0\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n${chunkedBody(SMUGGLED)}`;
    const r = await rawExchange(proxy.port, raw, ['POST']);
    assert.equal(r.closedByServer, true);
    assert.deepEqual(r.reasons, ['BAD_FRAMING'], r.text);
    assert.deepEqual(await settle(proxy, app), []);
  });

  test('a leading-zero Content-Length is sent in canonical form', async () => {
    const r = await rawExchange(
      proxy.port,
      'PUT /app HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 005\r\n\r\nhello',
      ['PUT'],
      { expected: 1 },
    );
    assert.deepEqual(r.statuses, [200]);
    const seen = await settle(proxy, app);
    assert.equal(seen.length, 1);
    assert.equal(headerOf(seen[0] as LoggedRequest, 'content-length'), '5');
    assert.equal(seen[0]?.body.toString(), 'hello');
  });
});

describe('--http-upstream: header names with underscores (nginx underscores_in_headers)', () => {
  const forged =
    'X_SSL_Client_Verify: SUCCESS\r\nX_SSL_Client_S_DN_CN: admin\r\nX-Forwarded_For: 6.6.6.6\r\nX_Real_IP: 6.6.6.6\r\nSSL_CLIENT_VERIFY: SUCCESS\r\nMy_Header: mine\r\n';

  async function sendForged(underscoreHeaders: boolean): Promise<LoggedRequest> {
    const app = await startLoggingUpstream();
    const echo = await startEchoTarget();
    const proxy = await startProxy(echo.port, {
      httpUpstream: `http://127.0.0.1:${app.port}/`,
      ...(underscoreHeaders ? { upstreamUnderscoreHeaders: true } : {}),
    });
    try {
      const r = await rawExchange(proxy.port, `GET /app HTTP/1.1\r\nHost: 127.0.0.1\r\n${forged}\r\n`, ['GET'], {
        expected: 1,
      });
      assert.deepEqual(r.statuses, [200]);
      await waitFor(() => app.seen.length > 0);
      assert.equal(app.seen.length, 1);
      return app.seen[0] as LoggedRequest;
    } finally {
      await proxy.close();
      await app.close();
      await echo.close();
    }
  }

  const folded = (r: LoggedRequest): string[] => r.headers.map(([n]) => n.toLowerCase().replace(/_/g, '-'));

  test("by default no header name with _ reaches the application; the forwarding facts are wsproxy's", async () => {
    const seen = await sendForged(false);
    assert.deepEqual(
      seen.headers.filter(([n]) => n.includes('_')),
      [],
    );
    assert.equal(folded(seen).filter((n) => n === 'x-forwarded-for').length, 1);
    assert.equal(headerOf(seen, 'x-forwarded-for'), '127.0.0.1');
    assert.equal(folded(seen).includes('x-real-ip'), false);
    assert.equal(
      folded(seen).some((n) => n.startsWith('x-ssl-client') || n.startsWith('ssl-client')),
      false,
    );
  });

  test('with --upstream-underscore-headers an ordinary name passes, protected names are still dropped', async () => {
    const seen = await sendForged(true);
    assert.equal(headerOf(seen, 'my_header'), 'mine');
    assert.deepEqual(
      seen.headers.filter(([n]) => n.includes('_')).map(([n]) => n.toLowerCase()),
      ['my_header'],
    );
    assert.equal(headerOf(seen, 'x-forwarded-for'), '127.0.0.1');
    assert.equal(folded(seen).includes('x-real-ip'), false);
  });

  test('the CLI flag --upstream-underscore-headers reaches the proxy', async () => {
    const app = await startLoggingUpstream();
    const echo = await startEchoTarget();
    const daemon = await spawnDaemon([
      '--upstream-underscore-headers',
      '--http-upstream',
      `http://127.0.0.1:${app.port}/`,
      '127.0.0.1:0',
      `127.0.0.1:${echo.port}`,
    ]);
    try {
      const r = await rawExchange(daemon.port, `GET /app HTTP/1.1\r\nHost: 127.0.0.1\r\n${forged}\r\n`, ['GET'], {
        expected: 1,
      });
      assert.deepEqual(r.statuses, [200]);
      await waitFor(() => app.seen.length > 0);
      assert.deepEqual(
        app.seen[0]?.headers.filter(([n]) => n.includes('_')).map(([n]) => n.toLowerCase()),
        ['my_header'],
      );
    } finally {
      await daemon.stop();
      await app.close();
      await echo.close();
    }
  });
});

describe('--http-upstream answers that Node cannot pass on', () => {
  test('an upstream status outside 100-599 gets 502 UPSTREAM_FAILED and the daemon goes on serving', async () => {
    // An application (or anything at its address) answering a status Node's writeHead refuses killed the process.
    const odd = await startTarget((socket) =>
      socket.once('data', () => socket.end('HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\nhi')),
    );
    const echo = await startEchoTarget();
    const daemon = await spawnDaemon([
      '--http-upstream',
      `http://127.0.0.1:${odd.port}/`,
      '127.0.0.1:0',
      `127.0.0.1:${echo.port}`,
    ]);
    try {
      const first = await rawExchange(daemon.port, 'GET /app HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', ['GET'], {
        expected: 1,
      });
      assert.deepEqual(first.statuses, [502]);
      assert.deepEqual(first.reasons, ['UPSTREAM_FAILED']);
      assert.equal(daemon.proc.exitCode, null, 'the daemon is still running');
      const again = await rawExchange(daemon.port, 'GET /app HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', ['GET'], {
        expected: 1,
      });
      assert.deepEqual(again.statuses, [502]);
    } finally {
      await daemon.stop();
      await odd.close();
      await echo.close();
    }
  });
});
