// `wsproxy check`: findings and exit codes against real files, sockets and a closed Redis port.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeSelfSignedPem } from '../../../src/certs/self-signed.js';
import { runCli, freePort, startEchoTarget, testCertificate, type TestTarget } from '../../helpers/proxy.js';

function check(...args: string[]): { code: number | null; out: string; err: string } {
  const r = runCli(['check', ...args], { timeoutMs: 30_000, keepStateHome: true });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const line = (out: string, name: string): string =>
  out.split('\n').find((l) => new RegExp(`^\\w+\\s+${name}\\s`).test(l)) ?? '';

describe('wsproxy check', () => {
  let target: TestTarget;
  let certFile: string;
  before(async () => {
    target = await startEchoTarget();
    certFile = (await testCertificate()).file;
  });
  after(async () => {
    await target.close();
  });

  test('a good configuration: exit 0; the short-lived self-signed certificate gives warnings, not failures', async () => {
    const port = await freePort();
    const r = check('--cert', certFile, `127.0.0.1:${port}`, `127.0.0.1:${target.port}`);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(line(r.out, 'certificate'), /^ok .*key matches/);
    assert.match(line(r.out, 'validity'), /^warn .*expires in [01] days/);
    assert.match(line(r.out, 'names'), /^ok .*localhost, 127\.0\.0\.1/);
    assert.match(line(r.out, 'trust'), /^warn .*self-signed/);
    assert.match(line(r.out, 'listen'), /^ok .*is free/);
    assert.match(line(r.out, 'target'), /^ok .*accepts connections/);
  });

  test('a key that does not belong to the certificate fails with exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-check-'));
    const a = await makeSelfSignedPem({ dns: ['localhost'], ips: [] }, 30);
    const b = await makeSelfSignedPem({ dns: ['localhost'], ips: [] }, 30);
    const cert = join(dir, 'a.crt');
    const key = join(dir, 'b.key');
    writeFileSync(cert, a.slice(0, a.indexOf('-----BEGIN PRIVATE KEY-----')));
    writeFileSync(key, b.slice(b.indexOf('-----BEGIN PRIVATE KEY-----')), { mode: 0o600 });
    const r = check('--cert', cert, '--key', key, '127.0.0.1:0', `127.0.0.1:${target.port}`);
    assert.equal(r.code, 1);
    assert.match(line(r.out, 'certificate'), /^fail .*does not belong to the certificate/);
    assert.doesNotMatch(r.out, /BEGIN PRIVATE KEY/);
  });

  test('a refused target and a listen address in use: fail (exit 1) and warn', async () => {
    const busy = createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const busyPort = (busy.address() as { port: number }).port;
    const closedPort = await freePort();
    try {
      const r = check('--cert', certFile, `127.0.0.1:${busyPort}`, `127.0.0.1:${closedPort}`);
      assert.equal(r.code, 1);
      assert.match(line(r.out, 'listen'), /^warn .*is in use/);
      assert.match(line(r.out, 'target'), /^fail .*TARGET_REFUSED/);
    } finally {
      busy.close();
    }
  });

  test('a token source that does not answer fails; one that does is ok', async () => {
    const closedPort = await freePort();
    const down = check(
      '--cert',
      certFile,
      '--token-plugin',
      'TokenRedis',
      '--token-source',
      `127.0.0.1:${closedPort}`,
      '127.0.0.1:0',
    );
    assert.equal(down.code, 1);
    assert.match(line(down.out, 'token source'), /^fail .*TokenRedis does not answer.*TOKEN_SOURCE_DOWN/);
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-check-'));
    const file = join(dir, 'tokens');
    writeFileSync(file, `secret-token-value: 127.0.0.1:${target.port}\n`);
    const up = check('--cert', certFile, '--token-plugin', 'TokenFile', '--token-source', file, '127.0.0.1:0');
    assert.equal(up.code, 0, up.out);
    assert.match(line(up.out, 'token source'), /^ok .*TokenFile answers lookups/);
    assert.doesNotMatch(up.out + up.err, /secret-token-value/);
  });

  test('a usage mistake is still exit 2 with one line', () => {
    const r = check('--workers', 'zero', '6080', 'localhost:5900');
    assert.equal(r.code, 2);
    assert.equal(r.err.trim().split('\n').length, 1);
  });
});
