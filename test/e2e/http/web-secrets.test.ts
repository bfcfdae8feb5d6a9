// `--web` never serves secrets (issue #12 finding 9): the certificate and key wsproxy uses (noVNC's launcher puts
// self.pem in the web root), token and record files, and any file holding a private key get the same 404 as a
// missing file, also through a symlink or %2e%2e; one warning at start names them. And `--web` files carry no CSP
// unless --web-csp gives one (finding 17).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { makeSelfSignedPem } from '../../../src/certs/self-signed.js';
import { runCli, exchange, spawnDaemon, startEchoTarget, startProxy, statusOf } from '../../helpers/proxy.js';

const get = (path: string, method = 'GET'): string =>
  `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
const bodyOf = (res: string): string => res.slice(res.indexOf('\r\n\r\n') + 4);

/** A web root like noVNC's, with self.pem (certificate + key) in it, a bare key, a public certificate and a symlink. */
async function webRoot(): Promise<{ dir: string; pem: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'wsproxy-web-'));
  const pem = await makeSelfSignedPem({ dns: ['localhost'], ips: ['127.0.0.1'] }, 2);
  const key = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n?/.exec(pem)?.[0] ?? '';
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(pem)?.[0] ?? '';
  assert.ok(key !== '' && cert !== '');
  writeFileSync(join(dir, 'self.pem'), pem, { mode: 0o600 });
  writeFileSync(join(dir, 'foo.key'), key);
  writeFileSync(join(dir, 'public.pem'), cert);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>ok</title>\n');
  writeFileSync(join(dir, 'bundle.p12'), 'not really pkcs12');
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'app.js'), 'console.log(1);\n');
  symlinkSync(join(dir, 'self.pem'), join(dir, 'sub', 'cert-link.txt'));
  return { dir, pem };
}

describe('--web hides secrets', () => {
  test('self.pem (the --cert in use) and key files: 404 like a missing file, also via symlink and %2e%2e; one warning names them', async () => {
    const target = await startEchoTarget();
    const { dir, pem } = await webRoot();
    const d = await spawnDaemon([
      '--cert',
      join(dir, 'self.pem'),
      '--web',
      dir,
      '127.0.0.1:0',
      `127.0.0.1:${target.port}`,
    ]);
    try {
      const missing = await exchange(d.port, get('/no-such.pem'));
      assert.equal(statusOf(missing), 404);
      for (const path of [
        '/self.pem',
        '/foo.key',
        '/bundle.p12',
        '/sub/cert-link.txt',
        '/sub/%2e%2e/self.pem',
        '/%2e%2e/' + (dir.split('/').pop() ?? '') + '/self.pem',
        '/sub/..%2fself.pem',
      ]) {
        const res = await exchange(d.port, get(path));
        assert.equal(statusOf(res), 404, path);
        // (Paths with dot segments are refused before any file is looked at, with the catalogue's text.)
        if (!path.includes('%2'))
          assert.equal(bodyOf(res), bodyOf(missing), `${path}: the same answer as a missing file`);
        assert.doesNotMatch(res, /PRIVATE KEY|BEGIN CERTIFICATE/);
      }
      assert.equal(statusOf(await exchange(d.port, get('/self.pem', 'HEAD'))), 404);
      for (const path of ['/', '/index.html', '/public.pem', '/sub/app.js'])
        assert.equal(statusOf(await exchange(d.port, get(path))), 200, path);
      const warnings = d
        .stderr()
        .split('\n')
        .filter((l) => l.includes('reason=WEB_SECRET_HIDDEN'));
      assert.equal(warnings.length, 1, d.stderr());
      for (const name of ['self.pem', 'foo.key', 'bundle.p12', 'sub/cert-link.txt'])
        assert.ok(warnings[0]?.includes(name), `${name} in ${warnings[0] ?? ''}`);
      assert.ok(!warnings[0]?.includes('public.pem'), 'a certificate without a key is public');
      assert.ok(!d.stderr().includes(pem.split('\n')[1] ?? 'x'), 'no key or certificate material in the log');
    } finally {
      await d.stop();
      await target.close();
    }
  });

  test('token file, token-hash key, recordings and the log file in the web root are not served', async () => {
    const target = await startEchoTarget();
    const { dir } = await webRoot();
    writeFileSync(join(dir, 'tokens.txt'), `vm1: 127.0.0.1:${target.port}\n`);
    writeFileSync(join(dir, 'rec.1'), 'recorded frames');
    writeFileSync(join(dir, 'wsproxy.log'), 'log lines');
    writeFileSync(join(dir, 'hash.key'), 'a shared token-hash secret');
    const proxy = await startProxy(target.port, {
      tokenHashKey: { file: join(dir, 'hash.key'), given: true },
      webRoot: dir,
      targets: { kind: 'token', plugin: 'TokenFile', source: join(dir, 'tokens.txt'), from: 'query' },
      recordPrefix: join(dir, 'rec'),
      log: { level: 'debug', format: 'text', file: join(dir, 'wsproxy.log') },
    });
    try {
      for (const path of ['/tokens.txt', '/rec.1', '/wsproxy.log', '/hash.key'])
        assert.equal(statusOf(await exchange(proxy.port, get(path))), 404, path);
      assert.equal(statusOf(await exchange(proxy.port, get('/index.html'))), 200);
    } finally {
      await proxy.close();
      await target.close();
    }
  });
});

describe('--web-csp', () => {
  test('--web files carry no CSP by default and the given one with --web-csp; built-in pages keep the strict one', async () => {
    const target = await startEchoTarget();
    const { dir } = await webRoot();
    const plain = await spawnDaemon(['--web', dir, '127.0.0.1:0', `127.0.0.1:${target.port}`]);
    const strict = await spawnDaemon([
      '--web',
      dir,
      '--web-csp',
      "default-src 'self'; frame-ancestors 'none'",
      '127.0.0.1:0',
      `127.0.0.1:${target.port}`,
    ]);
    const builtin = await spawnDaemon(['127.0.0.1:0', `127.0.0.1:${target.port}`]);
    try {
      const p = await exchange(plain.port, get('/index.html'));
      assert.equal(statusOf(p), 200);
      assert.doesNotMatch(p, /Content-Security-Policy/i);
      assert.match(p, /X-Content-Type-Options: nosniff/);
      const s = await exchange(strict.port, get('/index.html'));
      assert.match(s, /Content-Security-Policy: default-src 'self'; frame-ancestors 'none'\r\n/);
      assert.match(await exchange(builtin.port, get('/')), /Content-Security-Policy: default-src 'self'/);
    } finally {
      await plain.stop();
      await strict.stop();
      await builtin.stop();
      await target.close();
    }
  });

  test('--web-csp without --web, or with a line break, is a one-line usage error (exit 2)', () => {
    for (const args of [
      ['--web-csp', "default-src 'self'"],
      ['--web', tmpdir(), '--web-csp', "default-src 'self'\nX-Evil: 1"],
    ]) {
      const r = runCli([...args, '127.0.0.1:0', '127.0.0.1:1'], { timeoutMs: 10_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^wsproxy: --web-csp/);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
  });
});
