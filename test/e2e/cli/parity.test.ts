// websockify parity: --record, auth plugins, --web-auth, --run-once, --timeout, --idle-timeout.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import {
  closed,
  exchange,
  openWs,
  spawnDaemon,
  startEchoTarget,
  startProxy,
  startTarget,
  statusOf,
  upgradeRequest,
  waitFor,
} from '../../helpers/proxy.js';

const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('--record', () => {
  test("writes FILE.<n> in noVNC's playback format, byte-exact escaping, never overwriting", async () => {
    const greeting = Buffer.from("RFB 003.008\n\x00\xff'\\");
    const target = await startTarget((s) => {
      s.write(greeting);
      s.on('data', (d: Buffer) => s.write(Buffer.concat([Buffer.from('echo:'), d])));
    });
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-rec-'));
    const prefix = join(dir, 'session');
    writeFileSync(`${prefix}.1`, 'an older recording');
    const proxy = await startProxy(target.port, { recordPrefix: prefix });
    try {
      // Listen before 'open': the greeting can arrive in the same packet as the 101.
      const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/`);
      const got: Buffer[] = [];
      ws.on('message', (d: Buffer) => got.push(d));
      await once(ws, 'open');
      await waitFor(() => got.length >= 1, 2000, 'greeting');
      ws.send(Buffer.from([1, 2, 3, 0x27]));
      await waitFor(() => got.length >= 2, 2000, 'echo');
      ws.close();
      await closed(ws);
      await waitFor(
        () => readdirSync(dir).includes('session.2') && readFileSync(`${prefix}.2`, 'latin1').endsWith("'EOF'];\n"),
        3000,
        'recording closed',
      );
      assert.equal(readFileSync(`${prefix}.1`, 'utf8'), 'an older recording');
      const text = readFileSync(`${prefix}.2`, 'latin1');
      const lines = text.split('\n');
      assert.equal(lines[0], 'var VNC_frame_data = [');
      assert.equal(lines.at(-2), "'EOF'];");
      const frames = lines.slice(1, -2).map((l) => /^'([{}])(\d+)\1(.*)',$/.exec(l));
      assert.ok(
        frames.every((m) => m !== null),
        text,
      );
      const py = (b: Buffer): string =>
        execFileSync(
          'python3',
          [
            '-c',
            "import sys; b=sys.stdin.buffer.read(); sys.stdout.write(b.decode('latin1').encode('unicode_escape').decode('ascii').replace(\"'\", \"\\\\'\"))",
          ],
          { input: b, encoding: 'utf8' },
        );
      assert.deepEqual(
        frames.map((m) => [m?.[1], m?.[3]]),
        [
          ['{', py(greeting)],
          ['}', py(Buffer.from([1, 2, 3, 0x27]))],
          ['{', py(Buffer.from([...Buffer.from('echo:'), 1, 2, 3, 0x27]))],
        ],
      );
      assert.ok(proxy.logs.some((l) => l.includes(`recording=${prefix}.2`)));
    } finally {
      await proxy.close();
      await target.close();
    }
  });
});

describe('auth plugins', () => {
  test('BasicHTTPAuth: 401 with a challenge, 401 for wrong, 403 for malformed, 101 for right; password never logged', async () => {
    const target = await startEchoTarget();
    const proxy = await startProxy(target.port, {
      auth: { plugin: 'BasicHTTPAuth', source: 'alice:s3cr3t:pw', webAuth: false },
    });
    try {
      const none = await exchange(proxy.port, upgradeRequest('/'));
      assert.equal(statusOf(none), 401);
      assert.match(none, /WWW-Authenticate: Basic realm="Websockify"/);
      assert.match(none, /X-Wsproxy-Reason: AUTH_REQUIRED/);
      assert.equal(
        statusOf(await exchange(proxy.port, upgradeRequest('/', { Authorization: basic('alice', 'wrong') }))),
        401,
      );
      assert.equal(
        statusOf(await exchange(proxy.port, upgradeRequest('/', { Authorization: 'Basic !!!notbase64' }))),
        403,
      );
      assert.equal(
        statusOf(
          await exchange(
            proxy.port,
            upgradeRequest('/', { Authorization: `Basic ${Buffer.from('nocolon').toString('base64')}` }),
          ),
        ),
        403,
      );
      assert.equal(statusOf(await exchange(proxy.port, upgradeRequest('/', { Authorization: 'Bearer abc' }))), 403);
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/`, {
        headers: { Authorization: basic('alice', 's3cr3t:pw') },
      });
      ws.send(Buffer.from('in'));
      const [d] = (await once(ws, 'message')) as [Buffer];
      assert.equal(d.toString(), 'in');
      ws.terminate();
      await waitFor(() => proxy.logs.some((l) => l.includes('identity=alice')), 2000, 'identity in the log');
      const logs = proxy.logs.join('');
      assert.ok(
        !logs.includes('s3cr3t') && !logs.includes(basic('alice', 's3cr3t:pw').slice(6)),
        'no secret in the logs',
      );
      // Pages are open without --web-auth.
      assert.equal(
        statusOf(await exchange(proxy.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')),
        200,
      );
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('--web-auth guards pages too', async () => {
    const target = await startEchoTarget();
    const proxy = await startProxy(target.port, { auth: { plugin: 'BasicHTTPAuth', source: 'bob:pw', webAuth: true } });
    try {
      const denied = await exchange(proxy.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
      assert.equal(statusOf(denied), 401);
      assert.match(denied, /WWW-Authenticate: Basic/);
      const status = await new Promise<number>((resolve, reject) => {
        httpGet(
          {
            host: '127.0.0.1',
            port: proxy.port,
            path: '/',
            agent: false,
            headers: { Authorization: basic('bob', 'pw') },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        ).on('error', reject);
      });
      assert.equal(status, 200);
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('ExpectOrigin: only listed origins, and no Origin is refused', async () => {
    const target = await startEchoTarget();
    const proxy = await startProxy(target.port, {
      auth: { plugin: 'ExpectOrigin', source: 'https://app.example https://other.example:8443', webAuth: false },
      allowOrigins: ['*'],
    });
    try {
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/`, { origin: 'https://APP.example:443' });
      ws.terminate();
      const wrong = await exchange(proxy.port, upgradeRequest('/', { Origin: 'https://evil.example' }));
      assert.equal(statusOf(wrong), 403);
      assert.match(wrong, /Invalid Origin/);
      assert.equal(statusOf(await exchange(proxy.port, upgradeRequest('/'))), 403);
    } finally {
      await proxy.close();
      await target.close();
    }
  });
});

describe('process lifetime (real daemon)', () => {
  test('--run-once exits 0 after the first session', async () => {
    const target = await startEchoTarget();
    const d = await spawnDaemon(['--run-once', '127.0.0.1:0', `127.0.0.1:${target.port}`]);
    try {
      const exited = once(d.proc, 'exit');
      const ws = await openWs(`ws://127.0.0.1:${d.port}/`);
      ws.close();
      const [code] = (await exited) as [number];
      assert.equal(code, 0);
      assert.match(d.stderr(), /reason=run-once/);
    } finally {
      await d.stop('SIGKILL');
      await target.close();
    }
  });

  test('--idle-timeout exits when nobody connects; --timeout stops accepting and exits', async () => {
    const target = await startEchoTarget();
    for (const flag of ['--idle-timeout', '--timeout']) {
      const d = await spawnDaemon([flag, '0.3', '127.0.0.1:0', `127.0.0.1:${target.port}`]);
      const [code] = (await once(d.proc, 'exit')) as [number];
      assert.equal(code, 0, flag);
      assert.match(d.stderr(), flag === '--timeout' ? /reason=timeout/ : /reason=idle-timeout/);
    }
    await target.close();
  });
});
