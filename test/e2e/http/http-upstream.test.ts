// --http-upstream: one port for an application (reverse-proxied with http-proxy-3) and its WebSocket tunnel.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  runCli,
  closed,
  freePort,
  openWs,
  spawnDaemon,
  startEchoTarget,
  startProxy,
  testCertificate,
  waitFor,
} from '../../helpers/proxy.js';

/** What the upstream saw of one request. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A real application server: records requests, echoes POST bodies, answers JSON of what it saw; `/slow…` goes to `slow`. */
async function startApp(
  slow?: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ port: number; server: Server; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    req.on('error', () => {});
    res.on('error', () => {});
    if (slow && req.url?.startsWith('/slow')) {
      slow(req, res);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.method === 'POST') {
        res.writeHead(201, { 'Content-Type': 'application/octet-stream', 'X-App': 'echo' });
        res.end(body);
        return;
      }
      const json = JSON.stringify({ method: req.method, url: req.url, headers: req.headers });
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'X-App': 'yes',
        'Set-Cookie': ['a=1', 'b=2'],
        Connection: 'keep-alive, X-Hop',
        'X-Hop': 'must not reach the client',
        'Keep-Alive': 'timeout=99',
      });
      res.end(json);
    });
  });
  server.on('clientError', (_e, s) => s.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    server,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request on its own connection. */
async function fetchRaw(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer; ca?: string } = {},
): Promise<Answer> {
  const make = options.ca === undefined ? httpRequest : httpsRequest;
  const req = make({
    host: '127.0.0.1',
    port,
    path,
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    agent: false,
    ...(options.ca === undefined ? {} : { ca: options.ca, servername: 'localhost' }),
  });
  req.end(options.body);
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
}

describe('--http-upstream', () => {
  test('GET is proxied with status, headers and body; forwarding facts are ours, hop-by-hop headers are dropped', async () => {
    const app = await startApp();
    const echo = await startEchoTarget();
    // The public name the user typed is allowed by name (the automatic Host list knows only local names).
    const policy = {
      maxSessionsPerToken: 0,
      rateLimit: undefined,
      allowTargets: [],
      allowedHosts: ['portal.example', '127.0.0.1'],
      revalidateIntervalMs: 0,
    };
    const proxy = await startProxy(echo.port, { httpUpstream: `http://127.0.0.1:${app.port}/`, policy });
    try {
      const r = await fetchRaw(proxy.port, '/app/page?x=1&y=%20', {
        headers: {
          Host: 'portal.example:8443',
          'X-Forwarded-For': '6.6.6.6',
          'X-Forwarded-Proto': 'https',
          Forwarded: 'for=6.6.6.6',
          'X-SSL-Client-S-DN': 'CN=admin',
          ssl_client_s_dn_cn: 'admin',
          Connection: 'keep-alive, X-Secret-Hop',
          'X-Secret-Hop': 'hop',
          'Proxy-Authorization': 'Basic Zm9vOmJhcg==',
          'X-Custom': 'kept',
        },
      });
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-app'], 'yes');
      assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
      assert.equal(
        r.headers['x-hop'],
        undefined,
        'a header named in the upstream Connection must not reach the client',
      );
      assert.notEqual(r.headers['keep-alive'], 'timeout=99', "the upstream's Keep-Alive is about its own connection");
      const got = JSON.parse(r.body.toString()) as { method: string; url: string; headers: IncomingHttpHeaders };
      assert.equal(got.method, 'GET');
      assert.equal(got.url, '/app/page?x=1&y=%20');
      assert.equal(got.headers.host, 'portal.example:8443', 'the application sees the Host the user typed');
      assert.equal(got.headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(got.headers['x-forwarded-proto'], 'http');
      assert.equal(got.headers['x-forwarded-host'], 'portal.example:8443');
      assert.equal(got.headers['x-forwarded-port'], String(proxy.port));
      assert.equal(got.headers.forwarded, 'for=127.0.0.1;proto=http;host="portal.example:8443"');
      assert.equal(got.headers['x-ssl-client-s-dn'], undefined);
      assert.equal(got.headers['ssl_client_s_dn_cn'], undefined);
      assert.equal(got.headers['x-secret-hop'], undefined);
      assert.equal(got.headers['proxy-authorization'], undefined);
      assert.equal(got.headers['x-custom'], 'kept');
      // The front page belongs to the application, not to the built-in page.
      const front = await fetchRaw(proxy.port, '/');
      assert.equal(front.headers['x-app'], 'yes');
    } finally {
      await proxy.close();
      await app.close();
      await echo.close();
    }
  });

  test('POST bodies are streamed both ways (1 MiB echo), any method goes to the application, and a path prefix is kept', async () => {
    const app = await startApp();
    const echo = await startEchoTarget();
    const proxy = await startProxy(echo.port, { httpUpstream: `http://127.0.0.1:${app.port}/prefix` });
    try {
      const body = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
      const r = await fetchRaw(proxy.port, '/upload?n=1', {
        method: 'POST',
        body,
        headers: { 'Content-Type': 'application/octet-stream' },
      });
      assert.equal(r.status, 201);
      assert.equal(r.headers['x-app'], 'echo');
      assert.ok(r.body.equals(body), 'echoed body differs');
      assert.equal(app.seen.at(-1)?.url, '/prefix/upload?n=1');
      // Chunked request body (no Content-Length) also arrives whole.
      const chunked = httpRequest({
        host: '127.0.0.1',
        port: proxy.port,
        path: '/chunked',
        method: 'POST',
        agent: false,
      });
      chunked.write('part one, ');
      chunked.end('part two');
      const [res] = (await once(chunked, 'response')) as [IncomingMessage];
      const parts: Buffer[] = [];
      for await (const c of res) parts.push(c as Buffer);
      assert.equal(Buffer.concat(parts).toString(), 'part one, part two');
      const del = await fetchRaw(proxy.port, '/item/3', { method: 'DELETE' });
      assert.equal(del.status, 200);
      assert.equal(app.seen.at(-1)?.method, 'DELETE');
      assert.equal(app.seen.at(-1)?.url, '/prefix/item/3');
    } finally {
      await proxy.close();
      await app.close();
      await echo.close();
    }
  });

  test("built-in routes are still wsproxy's own (and 405 for other methods there); upgrades never reach the application", async () => {
    const app = await startApp();
    const echo = await startEchoTarget();
    const proxy = await startProxy(echo.port, { httpUpstream: `http://127.0.0.1:${app.port}` });
    try {
      const before = app.seen.length;
      const vnc = await fetchRaw(proxy.port, '/vnc.html');
      assert.equal(vnc.status, 200);
      assert.match(vnc.body.toString(), /<html/i);
      assert.equal(vnc.headers['x-app'], undefined);
      const index = await fetchRaw(proxy.port, '/index.html');
      assert.equal(index.status, 200);
      assert.equal(index.headers['x-app'], undefined);
      const info = await fetchRaw(proxy.port, '/wsproxy/info.json');
      assert.equal(info.status, 200);
      assert.equal((JSON.parse(info.body.toString()) as { version: string }).version, 'test');
      const icon = await fetchRaw(proxy.port, '/favicon.svg');
      assert.equal(icon.status, 200);
      assert.equal(icon.headers['x-app'], undefined);
      const post = await fetchRaw(proxy.port, '/vnc.html', { method: 'POST', body: Buffer.from('x') });
      assert.equal(post.status, 405);
      // A WebSocket on any path is the tunnel's.
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/websockify`);
      const reply = once(ws, 'message');
      ws.send(Buffer.from('through the tunnel'));
      assert.equal(String((await reply)[0]), 'through the tunnel');
      ws.close();
      await closed(ws);
      const ws2 = await openWs(`ws://127.0.0.1:${proxy.port}/some/app/path`);
      ws2.close();
      await closed(ws2);
      assert.equal(app.seen.length, before, 'the application saw a request that was not its own');
    } finally {
      await proxy.close();
      await app.close();
      await echo.close();
    }
  });

  test('with --web, files that exist in DIR win and every other path goes to the application', async () => {
    const app = await startApp();
    const echo = await startEchoTarget();
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-web-'));
    writeFileSync(join(dir, 'here.txt'), 'served by wsproxy\n');
    const proxy = await startProxy(echo.port, { httpUpstream: `http://127.0.0.1:${app.port}`, webRoot: dir });
    try {
      const own = await fetchRaw(proxy.port, '/here.txt');
      assert.equal(own.body.toString(), 'served by wsproxy\n');
      const other = await fetchRaw(proxy.port, '/elsewhere.txt');
      assert.equal(other.headers['x-app'], 'yes');
      assert.equal(app.seen.at(-1)?.url, '/elsewhere.txt');
    } finally {
      await proxy.close();
      await app.close();
      await echo.close();
    }
  });

  test('over https the application is told X-Forwarded-Proto: https', async () => {
    const app = await startApp();
    const echo = await startEchoTarget();
    const proxy = await startProxy(echo.port, { httpUpstream: `http://127.0.0.1:${app.port}` });
    try {
      const r = await fetchRaw(proxy.port, '/secure', { ca: proxy.ca });
      assert.equal(r.status, 200);
      const got = JSON.parse(r.body.toString()) as { headers: IncomingHttpHeaders };
      assert.equal(got.headers['x-forwarded-proto'], 'https');
    } finally {
      await proxy.close();
      await app.close();
      await echo.close();
    }
  });

  test('--web-auth guards the application too, and the Basic credential it checked is not passed on', async () => {
    const app = await startApp();
    const echo = await startEchoTarget();
    const proxy = await startProxy(echo.port, {
      httpUpstream: `http://127.0.0.1:${app.port}`,
      auth: { plugin: 'BasicHTTPAuth', source: 'ann:pw', webAuth: true },
    });
    try {
      const none = await fetchRaw(proxy.port, '/app');
      assert.equal(none.status, 401);
      assert.equal(app.seen.length, 0);
      const ok = await fetchRaw(proxy.port, '/app', {
        headers: { Authorization: `Basic ${Buffer.from('ann:pw').toString('base64')}` },
      });
      assert.equal(ok.status, 200);
      assert.equal(app.seen.at(-1)?.headers.authorization, undefined);
    } finally {
      await proxy.close();
      await app.close();
      await echo.close();
    }
  });

  test('an https upstream is verified against trusted CAs and its own host name, whatever Host the client sends', async () => {
    const cert = await testCertificate();
    // Only the certificate block: the CA file trusted through NODE_EXTRA_CA_CERTS.
    const caFile = join(mkdtempSync(join(tmpdir(), 'wsproxy-ca-')), 'ca.pem');
    writeFileSync(caFile, /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(cert.pem)?.[0] ?? '');
    const app = createHttpsServer({ cert: cert.pem, key: cert.pem }, (req, res) => {
      res.writeHead(200, { 'X-App': 'tls' });
      res.end(`${req.url ?? ''} host=${req.headers.host ?? ''}`);
    });
    app.on('tlsClientError', () => {});
    app.listen(0, '127.0.0.1');
    await once(app, 'listening');
    const appPort = (app.address() as AddressInfo).port;
    const echo = await startEchoTarget();
    const trusted = await spawnDaemon(
      [
        '--allowed-host',
        'portal.example',
        '--http-upstream',
        `https://localhost:${appPort}/base`,
        '127.0.0.1:0',
        `127.0.0.1:${echo.port}`,
      ],
      { NODE_EXTRA_CA_CERTS: caFile },
    );
    const untrusted = await spawnDaemon(
      ['--http-upstream', `https://localhost:${appPort}/base`, '127.0.0.1:0', `127.0.0.1:${echo.port}`],
      { NODE_EXTRA_CA_CERTS: '' },
    );
    try {
      const r = await fetchRaw(trusted.port, '/x', { headers: { Host: 'portal.example' } });
      assert.equal(r.status, 200, r.body.toString());
      assert.equal(r.body.toString(), '/base/x host=portal.example');
      const u = await fetchRaw(untrusted.port, '/x');
      assert.equal(u.status, 502);
      assert.equal(u.headers['x-wsproxy-reason'], 'UPSTREAM_FAILED');
      await waitFor(
        () => /UPSTREAM_FAILED.*detail=(?:SELF_SIGNED|DEPTH_ZERO|UNABLE_TO)/.test(untrusted.stderr()),
        3000,
        'the TLS failure in the log',
      );
    } finally {
      await trusted.stop();
      await untrusted.stop();
      app.closeAllConnections();
      app.close();
      await echo.close();
    }
  });

  test('upstream down → 502 UPSTREAM_FAILED, and the tunnel still relays afterwards', async () => {
    const echo = await startEchoTarget();
    const port = await freePort();
    const proxy = await startProxy(echo.port, { httpUpstream: `http://127.0.0.1:${port}` });
    try {
      const r = await fetchRaw(proxy.port, '/anything');
      assert.equal(r.status, 502);
      assert.equal(r.headers['x-wsproxy-reason'], 'UPSTREAM_FAILED');
      assert.match(r.body.toString(), /did not answer/);
      const p = await fetchRaw(proxy.port, '/form', { method: 'POST', body: Buffer.from('a=1') });
      assert.equal(p.status, 502);
      assert.ok(
        proxy.logs.some((l) => l.includes('reason=UPSTREAM_FAILED') && l.includes('ECONNREFUSED')),
        proxy.logs.join('\n'),
      );
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/websockify`);
      const reply = once(ws, 'message');
      ws.send(Buffer.from([0, 1, 2, 255]));
      assert.deepEqual([...((await reply)[0] as Buffer)], [0, 1, 2, 255]);
      ws.close();
      await closed(ws);
    } finally {
      await proxy.close();
      await echo.close();
    }
  });

  test('an upstream that goes away after serving → 502 for the next request', async () => {
    const app = await startApp();
    const echo = await startEchoTarget();
    const proxy = await startProxy(echo.port, { httpUpstream: `http://127.0.0.1:${app.port}` });
    try {
      assert.equal((await fetchRaw(proxy.port, '/up')).status, 200);
      await app.close();
      const r = await fetchRaw(proxy.port, '/down');
      assert.equal(r.status, 502);
      assert.equal(r.headers['x-wsproxy-reason'], 'UPSTREAM_FAILED');
    } finally {
      await proxy.close();
      await echo.close();
    }
  });

  test('a client that aborts mid-response crashes nothing; the upstream request is cut and the next request works', async () => {
    let upstreamClosed = false;
    let release: (() => void) | undefined;
    const app = await startApp((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('first chunk of a long answer\n');
      res.on('close', () => (upstreamClosed = true));
      release = () => res.end('late');
      void req;
    });
    const echo = await startEchoTarget();
    const proxy = await startProxy(echo.port, { httpUpstream: `http://127.0.0.1:${app.port}` });
    try {
      const req = httpRequest({ host: '127.0.0.1', port: proxy.port, path: '/slow', agent: false });
      req.on('error', () => {});
      req.end();
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      res.on('error', () => {});
      const [first] = (await once(res, 'data')) as [Buffer];
      assert.match(first.toString(), /first chunk/);
      req.destroy();
      await waitFor(() => upstreamClosed, 5_000, 'the upstream response to be cut');
      release?.();
      // The daemon goes on: the application and the tunnel both still work.
      const next = await fetchRaw(proxy.port, '/after');
      assert.equal(next.status, 200);
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/websockify`);
      ws.close();
      await closed(ws);
    } finally {
      await proxy.close();
      await app.close();
      await echo.close();
    }
  });

  for (const [value, expected] of [
    ['ftp://127.0.0.1/', /--http-upstream: got the scheme 'ftp:'; give an http:\/\/ or https:\/\/ URL/],
    ['htp://user:s3cret@127.0.0.1/', /--http-upstream: got the scheme 'htp:'/],
    ['not a url s3cret', /--http-upstream: got a value that is not a URL/],
    ['http://user:s3cret@127.0.0.1/', /--http-upstream: the URL must not carry a user or password/],
    ['http://127.0.0.1/?q=1', /--http-upstream: .* must not have a query/],
  ] as const) {
    test(`--http-upstream ${value.replace('s3cret', '***')}: one line, exit 2, no secret`, () => {
      const r = runCli(['--http-upstream', value, '0', '127.0.0.1:1'], { timeoutMs: 10_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, expected);
      assert.doesNotMatch(r.stderr, /s3cret/);
    });
  }
});
