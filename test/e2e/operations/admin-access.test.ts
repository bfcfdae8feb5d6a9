// Who may use the admin listener (issue #12, finding 11), against the real daemon over real HTTP: off loopback a
// token is required at start; browsers can't change anything (cross-origin POST /reload → 403, nothing reloaded);
// without a token a rebound host name gets 421; with a token on 0.0.0.0 the probes stay open and the rest needs it.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli, spawnDaemon, startEchoTarget, waitFor, type Daemon } from '../../helpers/proxy.js';

interface Answer {
  readonly status: number;
  readonly reason: string | undefined;
  readonly body: string;
}

/** One HTTP request to 127.0.0.1:port with exactly these headers. */
function call(port: number, method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => (body += s));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, reason: res.headers['x-wsproxy-reason'] as string | undefined, body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** The admin port the daemon logged. */
async function adminPort(d: Daemon): Promise<number> {
  await waitFor(() => /admin listener admin=\S+:\d+/.test(d.stderr()), 10_000, 'admin listener line');
  return Number(/admin listener admin=\S+:(\d+)/.exec(d.stderr())?.[1]);
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'wsproxy-admin-access-'));
}

describe('admin listener access', () => {
  test('a non-loopback admin listener without a token is a command-line error (one line, exit 2)', () => {
    const r = runCli(['--admin-listen', '0.0.0.0:0', '127.0.0.1:0', '127.0.0.1:9'], { timeoutMs: 20_000 });
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0] ?? '',
      /--admin-listen 0\.0\.0\.0:0 is reachable from other machines: add --admin-token-file FILE/,
    );
  });

  test('cross-origin POST /reload is refused with 403 and reloads nothing; a rebound Host gets 421', async () => {
    const target = await startEchoTarget();
    const dir = tempDir();
    const config = join(dir, 'wsproxy.yaml');
    writeFileSync(config, 'max-connections: 100\n');
    const d = await spawnDaemon([
      '--config',
      config,
      '--admin-listen',
      '127.0.0.1:0',
      '127.0.0.1:0',
      `127.0.0.1:${target.port}`,
    ]);
    try {
      const port = await adminPort(d);
      writeFileSync(config, 'max-connections: 50\n');
      for (const headers of [
        { Origin: 'http://evil.example' },
        { 'Sec-Fetch-Site': 'cross-site' },
        { 'Sec-Fetch-Site': 'same-origin', Origin: `http://127.0.0.1:${port}` },
      ]) {
        const refused = await call(port, 'POST', '/reload', headers);
        assert.equal(refused.status, 403, JSON.stringify(headers));
        assert.equal(refused.reason, 'ADMIN_BROWSER_REFUSED');
      }
      const del = await call(port, 'DELETE', '/sessions/1', { Origin: 'null' });
      assert.equal(del.status, 403);
      assert.doesNotMatch(d.stderr(), /configuration reloaded/);
      // Nothing was reloaded: the first reload a program asks for still finds the change pending.
      const ok = await call(port, 'POST', '/reload');
      assert.equal(ok.status, 200, ok.body);
      assert.deepEqual((JSON.parse(ok.body) as { changed: string[] }).changed, ['max-connections']);
      // DNS rebinding: a name other than localhost can't read the admin routes without a token.
      const rebound = await call(port, 'GET', '/sessions', { Host: `rebind.attacker.example:${port}` });
      assert.equal(rebound.status, 421);
      assert.equal(rebound.reason, 'ADMIN_HOST_NOT_ALLOWED');
      assert.equal((await call(port, 'GET', '/sessions', { Host: `localhost:${port}` })).status, 200);
      assert.equal((await call(port, 'GET', '/metrics')).status, 200);
      assert.match(d.stderr(), /admin request refused .*reason=ADMIN_BROWSER_REFUSED/);
    } finally {
      await d.stop();
      await target.close();
    }
  });

  test('0.0.0.0 with --admin-token-file: probes open, the rest needs the token, browsers still refused', async () => {
    const target = await startEchoTarget();
    const dir = tempDir();
    const token = 'adm-0123456789abcdef0123456789abcdef';
    writeFileSync(join(dir, 'admin-token'), `${token}\n`);
    const d = await spawnDaemon([
      '--admin-listen',
      '0.0.0.0:0',
      '--admin-token-file',
      join(dir, 'admin-token'),
      '127.0.0.1:0',
      `127.0.0.1:${target.port}`,
    ]);
    try {
      const port = await adminPort(d);
      const bearer = { Authorization: `Bearer ${token}` };
      assert.equal((await call(port, 'GET', '/healthz')).status, 200);
      assert.equal((await call(port, 'GET', '/readyz')).status, 200);
      assert.equal((await call(port, 'GET', '/metrics')).status, 401);
      assert.equal((await call(port, 'POST', '/reload')).status, 401);
      assert.equal((await call(port, 'GET', '/metrics', bearer)).status, 200);
      // With a token, any Host name is fine (Prometheus scrapes by service name).
      assert.equal(
        (await call(port, 'GET', '/sessions', { ...bearer, Host: 'wsproxy-admin.example:9090' })).status,
        200,
      );
      assert.equal((await call(port, 'POST', '/reload', { ...bearer, Origin: 'http://evil.example' })).status, 403);
      assert.equal((await call(port, 'POST', '/reload', bearer)).status, 200);
      assert.ok(!d.stderr().includes(token), 'the token is never logged');
    } finally {
      await d.stop();
      await target.close();
    }
  });
});
