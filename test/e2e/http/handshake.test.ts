// Everything before the 101: sniffing, refusals with their status and reason code, stalls, limits, pages.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import {
  exchange,
  freePort,
  openWs,
  startEchoTarget,
  startProxy,
  statusOf,
  upgradeRequest,
  waitFor,
  type TestProxy,
  type TestTarget,
} from '../../helpers/proxy.js';

/** GET over http or https; resolves status, headers and body. */
function fetchPage(
  url: string,
  ca: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const onRes = (res: IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    };
    const req = url.startsWith('https:')
      ? httpsGet(url, { ca, servername: 'localhost', agent: false }, onRes)
      : httpGet(url, { agent: false }, onRes);
    req.on('error', reject);
  });
}

describe('one port, two schemes, refusals', () => {
  let target: TestTarget;
  let proxy: TestProxy;
  before(async () => {
    target = await startEchoTarget();
    proxy = await startProxy(target.port, { limits: { handshakeTimeoutMs: 400 } });
  });
  after(async () => {
    await proxy.close();
    await target.close();
  });

  test('the built-in page is served over http:// and https:// on the same port, with security headers', async () => {
    for (const scheme of ['http', 'https']) {
      const page = await fetchPage(`${scheme}://127.0.0.1:${proxy.port}/`, proxy.ca);
      assert.equal(page.status, 200);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      assert.match(page.body, /<title>wsproxy<\/title>/);
      assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
      assert.equal(page.headers['x-content-type-options'], 'nosniff');
      assert.equal(page.headers['referrer-policy'], 'no-referrer');
    }
  });

  test('info.json shows the fingerprint of the certificate the TLS client saw', async () => {
    const page = await fetchPage(`https://127.0.0.1:${proxy.port}/wsproxy/info.json`, proxy.ca);
    const info = JSON.parse(page.body) as { certificate: { loaded: boolean; fingerprint256: string } };
    assert.equal(info.certificate.loaded, true);
    assert.equal(info.certificate.fingerprint256, new X509Certificate(proxy.ca).fingerprint256);
  });

  test('other methods get 405 with Allow and Connection: close', async () => {
    const res = await exchange(proxy.port, 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n');
    assert.equal(statusOf(res), 405);
    assert.match(res, /\r\nAllow: GET, HEAD\r\n/i);
    assert.match(res, /\r\nConnection: close\r\n/i);
  });

  test('a malformed request gets 400 and an oversized header 431, both closed', async () => {
    const bad = await exchange(proxy.port, 'GET / HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n');
    assert.equal(statusOf(bad), 400);
    const huge = await exchange(
      proxy.port,
      `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    assert.equal(statusOf(huge), 431);
    const noHost = await exchange(proxy.port, 'GET / HTTP/1.1\r\n\r\n');
    assert.equal(statusOf(noHost), 400);
  });

  test('a bad path is 400, traversal and dotfiles are 404, never a redirect', async () => {
    assert.equal(
      statusOf(await exchange(proxy.port, 'GET /%E0%A4%A HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')),
      400,
    );
    const up = await exchange(
      proxy.port,
      'GET /../../etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    );
    assert.equal(statusOf(up), 404);
    const redirect = await exchange(
      proxy.port,
      'GET //evil.example/%2f.. HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    );
    assert.doesNotMatch(redirect, /\r\nLocation:/i);
  });

  test('handshake problems: 400 without a key, 426 for an old version, 400 for only unknown subprotocols', async () => {
    const noKey = await exchange(proxy.port, upgradeRequest('/', { 'Sec-WebSocket-Key': 'short' }));
    assert.equal(statusOf(noKey), 400);
    assert.match(noKey, /X-Wsproxy-Reason: BAD_HANDSHAKE/);
    const old = await exchange(proxy.port, upgradeRequest('/', { 'Sec-WebSocket-Version': '12' }));
    assert.equal(statusOf(old), 426);
    assert.match(old, /Sec-WebSocket-Version: 13/);
    const chat = await exchange(proxy.port, upgradeRequest('/', { 'Sec-WebSocket-Protocol': 'chat, superchat' }));
    assert.equal(statusOf(chat), 400);
    assert.match(chat, /X-Wsproxy-Reason: SUBPROTOCOL_UNSUPPORTED/);
  });

  test("subprotocol header shapes ws itself would refuse ('binary,', empty) are settled by our choice, before any 101", async () => {
    for (const [value, expected] of [
      ['binary,', 'binary'],
      [', binary', 'binary'],
      ['', undefined],
      ['binary,,chat', 'binary'],
    ] as const) {
      const socket = connect(proxy.port, '127.0.0.1');
      socket.on('error', () => {});
      await once(socket, 'connect');
      socket.write(upgradeRequest('/', { 'Sec-WebSocket-Protocol': value }));
      let head = '';
      socket.setEncoding('latin1');
      await new Promise<void>((resolve) => {
        socket.on('data', (d: string) => {
          head += d;
          if (head.includes('\r\n\r\n')) resolve();
        });
        socket.on('close', () => resolve());
      });
      socket.destroy();
      assert.equal(statusOf(head), 101, `${JSON.stringify(value)}: ${head.slice(0, 60)}`);
      const chosen = /Sec-WebSocket-Protocol: (\S+)/i.exec(head)?.[1];
      assert.equal(chosen, expected, JSON.stringify(value));
    }
  });

  test('a foreign Origin gets 403; the same host and no Origin are allowed', async () => {
    const foreign = await exchange(
      proxy.port,
      upgradeRequest('/', { Origin: 'https://evil.example' }, `127.0.0.1:${proxy.port}`),
    );
    assert.equal(statusOf(foreign), 403);
    assert.match(foreign, /X-Wsproxy-Reason: ORIGIN_FORBIDDEN/);
    assert.match(foreign, /--allow-origin/);
    const same = await openWs(`ws://127.0.0.1:${proxy.port}/`, { origin: `http://127.0.0.1:${proxy.port}` });
    same.terminate();
    const sameTls = await openWs(`wss://127.0.0.1:${proxy.port}/`, {
      origin: `https://127.0.0.1:${proxy.port}`,
      ca: proxy.ca,
    });
    sameTls.terminate();
    const otherPort = await exchange(
      proxy.port,
      upgradeRequest('/', { Origin: 'http://127.0.0.1:1' }, `127.0.0.1:${proxy.port}`),
    );
    assert.equal(statusOf(otherPort), 403);
  });

  test('--allow-origin lets a listed page in', async () => {
    const open = await startProxy(target.port, { allowOrigins: ['https://app.example'] });
    try {
      const ws = await openWs(`ws://127.0.0.1:${open.port}/`, { origin: 'https://app.example' });
      ws.terminate();
      const other = await exchange(open.port, upgradeRequest('/', { Origin: 'https://other.example' }));
      assert.equal(statusOf(other), 403);
    } finally {
      await open.close();
    }
  });

  test('garbage, a fake TLS record, a half ClientHello and a half request are each closed; the proxy still relays', async () => {
    // Garbage is answered (400) by the HTTP parser; a broken TLS record fails the handshake.
    const garbage = await exchange(proxy.port, Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a]));
    assert.equal(statusOf(garbage), 400);
    await exchange(proxy.port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x02, 0x03, 0x04, 0x05]));
    // Stalls: closed by the 400 ms handshake deadline (exchange() would time out after 5 s otherwise).
    const started = Date.now();
    await exchange(proxy.port, Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01]));
    await exchange(proxy.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ');
    const silent = connect(proxy.port, '127.0.0.1');
    silent.on('error', () => {});
    await once(silent, 'close');
    assert.ok(Date.now() - started < 4_000, 'stalled clients were closed by the deadline');
    await waitFor(
      () => proxy.logs.filter((l) => l.includes('reason=HANDSHAKE_TIMEOUT')).length >= 3,
      2000,
      'timeout log lines',
    );
    assert.ok(proxy.logs.some((l) => l.includes('reason=TLS_HANDSHAKE_FAILED')));
    const ws = await openWs(`wss://127.0.0.1:${proxy.port}/`, { ca: proxy.ca });
    ws.send(Buffer.from('still here'));
    const [d] = (await once(ws, 'message')) as [Buffer];
    assert.equal(d.toString(), 'still here');
    ws.terminate();
  });

  test('a TLS client that rejects the certificate (unknown CA alert) does not disturb others', async () => {
    const s = tlsConnect({ host: '127.0.0.1', port: proxy.port, servername: 'localhost' }); // no ca: the client refuses
    const [err] = (await once(s, 'error')) as [NodeJS.ErrnoException];
    assert.match(String(err.code), /SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/);
    const ws = await openWs(`wss://127.0.0.1:${proxy.port}/`, { ca: proxy.ca });
    ws.terminate();
  });

  test('200 connections opened and dropped leave no connection behind', async () => {
    const sockets: Socket[] = [];
    for (let i = 0; i < 200; i++) {
      const s = connect(proxy.port, '127.0.0.1');
      s.on('error', () => {});
      sockets.push(s);
    }
    await Promise.all(sockets.map((s) => once(s, 'connect')));
    for (const [i, s] of sockets.entries()) {
      if (i % 3 === 0) s.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // some mid-request
      if (i % 3 === 1) s.write(Buffer.from([0x16, 0x03, 0x01])); // some mid-TLS
      s.destroy();
    }
    await waitFor(() => proxy.server.stats().openConnections === 0, 5_000, 'all connections released');
    assert.equal(proxy.server.stats().activeSessions, 0);
  });
});

describe('listen addresses', () => {
  test('a bare port listens dual-stack: IPv4 and IPv6 clients both relay', async () => {
    const target = await startEchoTarget();
    const proxy = await startProxy(target.port, { listen: { kind: 'tcp', host: undefined, port: 0 } });
    try {
      for (const host of ['127.0.0.1', '[::1]']) {
        const ws = await openWs(`ws://${host}:${proxy.port}/`);
        ws.send(Buffer.from(host));
        const [d] = (await once(ws, 'message')) as [Buffer];
        assert.equal(d.toString(), host);
        ws.terminate();
      }
    } finally {
      await proxy.close();
      await target.close();
    }
  });
});

describe('targets that fail', () => {
  test('a refused target is 502 before any 101', async () => {
    const proxy = await startProxy(await freePort());
    try {
      const res = await exchange(proxy.port, upgradeRequest());
      assert.equal(statusOf(res), 502);
      assert.match(res, /X-Wsproxy-Reason: TARGET_REFUSED/);
      assert.doesNotMatch(res, /101 Switching/);
      assert.ok(proxy.logs.some((l) => l.includes('reason=TARGET_REFUSED')));
    } finally {
      await proxy.close();
    }
  });

  test('a target that never answers the connect is 504 after --connect-timeout', async () => {
    // A listening socket whose accept queue is full drops further SYNs, so connect() hangs (Linux).
    const py = spawn(
      'python3',
      [
        '-c',
        [
          'import socket,sys,time',
          's=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(0)',
          'fill=[]',
          'for _ in range(3):',
          '    c=socket.socket(); c.setblocking(False); c.connect_ex(s.getsockname()); fill.append(c)',
          'print(s.getsockname()[1], flush=True); time.sleep(30)',
        ].join('\n'),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [line] = (await once(py.stdout, 'data')) as [Buffer];
    const proxy = await startProxy(Number(line.toString().trim()), { limits: { connectTimeoutMs: 300 } });
    try {
      const res = await exchange(proxy.port, upgradeRequest());
      assert.equal(statusOf(res), 504);
      assert.match(res, /X-Wsproxy-Reason: TARGET_TIMEOUT/);
    } finally {
      py.kill();
      await proxy.close();
    }
  });

  test('a name that does not resolve is 502 TARGET_DNS', async () => {
    const proxy = await startProxy(1, {
      targets: { kind: 'fixed', target: { kind: 'tcp', host: 'no-such-host.invalid', port: 5900 } },
    });
    try {
      const res = await exchange(proxy.port, upgradeRequest());
      assert.equal(statusOf(res), 502);
      assert.match(res, /X-Wsproxy-Reason: TARGET_DNS/);
    } finally {
      await proxy.close();
    }
  });

  test('a unix socket target relays', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-unix-'));
    const path = join(dir, 'target.sock');
    const server = await startEchoTarget(path);
    const proxy = await startProxy(1, { targets: { kind: 'fixed', target: { kind: 'unix', path } } });
    try {
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/`);
      ws.send(Buffer.from('via unix'));
      const [d] = (await once(ws, 'message')) as [Buffer];
      assert.equal(d.toString(), 'via unix');
      ws.terminate();
    } finally {
      await proxy.close();
      await server.close();
    }
  });
});

describe('TLS settings and limits', () => {
  test('--ssl-only refuses plain clients and serves TLS ones', async () => {
    const target = await startEchoTarget();
    const proxy = await startProxy(target.port, { tls: { sslOnly: true } });
    try {
      const res = await exchange(proxy.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      assert.equal(res, '', 'closed without an answer');
      const ws = await openWs(`wss://127.0.0.1:${proxy.port}/`, { ca: proxy.ca });
      ws.terminate();
      assert.ok(proxy.logs.some((l) => l.includes('reason=PLAIN_REFUSED')));
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  // From the command line a missing --cert is a usage error (test/e2e/cli/cli.test.ts); a library caller's config, or a file that
  // vanished, still leaves plain clients served.
  test('a certificate that cannot be loaded: plain still works, a TLS client is closed with a log line naming the file', async () => {
    const target = await startEchoTarget();
    const missing = join(tmpdir(), `wsproxy-missing-${process.pid}.pem`);
    const proxy = await startProxy(target.port, { tls: { certFile: missing } });
    try {
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/`);
      ws.terminate();
      const s = tlsConnect({ host: '127.0.0.1', port: proxy.port, servername: 'localhost', ca: proxy.ca });
      await new Promise((resolve) => s.on('error', () => {}).on('close', resolve));
      assert.equal(s.authorized, false);
      const line = proxy.logs.find((l) => l.includes('reason=TLS_NOT_CONFIGURED'));
      assert.ok(line, 'log line');
      assert.ok(line.includes(missing) && line.includes('make-self-signed.sh'), line);
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('the default TLS profile refuses CBC and static-RSA suites and TLS 1.1', async () => {
    const target = await startEchoTarget();
    const proxy = await startProxy(target.port);
    try {
      for (const opts of [
        { ciphers: 'ECDHE-ECDSA-AES128-SHA', maxVersion: 'TLSv1.2' as const },
        { ciphers: 'AES128-GCM-SHA256', maxVersion: 'TLSv1.2' as const },
        { minVersion: 'TLSv1' as const, maxVersion: 'TLSv1.1' as const, ciphers: 'DEFAULT@SECLEVEL=0' },
      ]) {
        const s = tlsConnect({ host: '127.0.0.1', port: proxy.port, servername: 'localhost', ca: proxy.ca, ...opts });
        const [err] = (await once(s, 'error')) as [Error];
        assert.ok(err, `refused: ${JSON.stringify(opts)}`);
      }
      const ok = tlsConnect({
        host: '127.0.0.1',
        port: proxy.port,
        servername: 'localhost',
        ca: proxy.ca,
        maxVersion: 'TLSv1.2',
      });
      await once(ok, 'secureConnect');
      assert.match(String(ok.getCipher().name), /^ECDHE-ECDSA-(AES\d+-GCM|CHACHA20)/);
      ok.destroy();
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('--max-connections-per-ip closes the extra connection and counts it', async () => {
    const target = await startEchoTarget();
    const proxy = await startProxy(target.port, { limits: { maxConnectionsPerIp: 2 } });
    try {
      const a = await openWs(`ws://127.0.0.1:${proxy.port}/`);
      const b = await openWs(`ws://127.0.0.1:${proxy.port}/`);
      await assert.rejects(openWs(`ws://127.0.0.1:${proxy.port}/`));
      assert.equal(proxy.server.stats().refused.CONNECTION_LIMIT_PER_IP, 1);
      a.send(Buffer.from('ok'));
      const [d] = (await once(a, 'message')) as [Buffer];
      assert.equal(d.toString(), 'ok');
      a.terminate();
      b.terminate();
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('close() ends live sessions with 1001', async () => {
    const target = await startEchoTarget();
    const proxy = await startProxy(target.port);
    const ws = await openWs(`ws://127.0.0.1:${proxy.port}/`);
    const closing = once(ws, 'close');
    await proxy.close();
    const [code] = (await closing) as [number];
    assert.equal(code, 1001);
    await target.close();
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });
});

describe('--web static files', () => {
  test('serves files, index.html for directories, no dotfiles, no symlink escape, no listings', async () => {
    const root = mkdtempSync(join(tmpdir(), 'wsproxy-web-'));
    writeFileSync(join(root, 'vnc.html'), '<p>vnc</p>');
    mkdirSync(join(root, 'app'));
    writeFileSync(join(root, 'app', 'index.html'), 'app index');
    mkdirSync(join(root, 'empty'));
    writeFileSync(join(root, '.secret'), 'nope');
    const outside = mkdtempSync(join(tmpdir(), 'wsproxy-outside-'));
    writeFileSync(join(outside, 'passwd'), 'outside');
    symlinkSync(join(outside, 'passwd'), join(root, 'escape'));
    const target = await startEchoTarget();
    const proxy = await startProxy(target.port, { webRoot: root });
    try {
      const base = `http://127.0.0.1:${proxy.port}`;
      const vnc = await fetchPage(`${base}/vnc.html`, proxy.ca);
      assert.equal(vnc.status, 200);
      assert.equal(vnc.body, '<p>vnc</p>');
      assert.match(String(vnc.headers['content-type']), /text\/html/);
      assert.equal((await fetchPage(`${base}/app`, proxy.ca)).body, 'app index');
      for (const path of ['/empty/', '/.secret', '/escape', '/wsproxy/info.json']) {
        const missing = await fetchPage(`${base}${path}`, proxy.ca);
        assert.equal(missing.status, 404, path);
        assert.equal(missing.headers['x-wsproxy-reason'], 'NOT_FOUND', path);
      }
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/websockify`);
      ws.terminate();
    } finally {
      await proxy.close();
      await target.close();
    }
  });
});
