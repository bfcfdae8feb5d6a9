// scripts/make-self-signed.sh: the certificate it makes is one browsers and iOS accept, and a real TLS client
// verifies it (trusting it with `ca:`, never by turning verification off).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { connect, createServer } from 'node:tls';
import { REPO_ROOT } from '../helpers/proxy.js';

const SCRIPT = join(REPO_ROOT, 'scripts', 'make-self-signed.sh');

function make(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(SCRIPT, args, { cwd, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function x509Text(file: string): string {
  return execFileSync('openssl', ['x509', '-in', file, '-noout', '-text'], { encoding: 'utf8' });
}

describe('scripts/make-self-signed.sh', () => {
  test('default run: self.pem, mode 0600, SAN, CA:FALSE, serverAuth, P-256 ECDSA SHA-256, fingerprint printed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-mss-'));
    const r = make([], dir);
    assert.equal(r.status, 0, r.stderr);
    const file = join(dir, 'self.pem');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const text = x509Text(file);
    assert.match(text, /CA:FALSE/);
    assert.doesNotMatch(text, /CA:TRUE/);
    assert.match(text, /TLS Web Server Authentication/);
    assert.match(text, /DNS:localhost/);
    assert.match(text, /IP Address:127\.0\.0\.1/);
    assert.match(text, /IP Address:0:0:0:0:0:0:0:1/);
    assert.match(text, /ecdsa-with-SHA256/);
    assert.match(text, /prime256v1|P-256/);
    const pem = readFileSync(file, 'utf8');
    assert.match(pem, /-----BEGIN PRIVATE KEY-----/);
    const fp = new X509Certificate(pem).fingerprint256;
    assert.ok(r.stdout.includes(fp), `fingerprint ${fp} in ${r.stdout}`);
  });

  test('names, IPs and days given on the command line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-mss-'));
    const r = make(['-o', 'custom.pem', '-d', '30', 'example.test', '192.0.2.7', '2001:db8::1'], dir);
    assert.equal(r.status, 0, r.stderr);
    const cert = new X509Certificate(readFileSync(join(dir, 'custom.pem')));
    assert.equal(cert.subjectAltName, 'DNS:example.test, IP Address:192.0.2.7, IP Address:2001:DB8:0:0:0:0:0:1');
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    assert.ok(Math.abs(days - 30) <= 1, `valid ${days} days`);
  });

  test('a real TLS client verifies it for localhost and rejects another name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-mss-'));
    assert.equal(make([], dir).status, 0);
    const pem = readFileSync(join(dir, 'self.pem'), 'utf8');
    const server = createServer({ cert: pem, key: pem }, (s) => s.end('ok'));
    server.on('tlsClientError', () => {});
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      const good = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: pem });
      await once(good, 'secureConnect');
      assert.equal(good.authorized, true);
      good.destroy();
      const byIp = connect({ host: '127.0.0.1', port, ca: pem });
      await once(byIp, 'secureConnect');
      assert.equal(byIp.authorized, true);
      byIp.destroy();
      const wrong = connect({ host: '127.0.0.1', port, servername: 'other.example', ca: pem });
      const [err] = (await once(wrong, 'error')) as [NodeJS.ErrnoException];
      assert.equal(err.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
    } finally {
      server.close();
    }
  });

  test('refuses to overwrite without -f; replaces with -f', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-mss-'));
    const file = join(dir, 'self.pem');
    writeFileSync(file, 'keep me');
    const r = make([], dir);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /pass -f/);
    assert.equal(readFileSync(file, 'utf8'), 'keep me');
    assert.equal(make(['-f'], dir).status, 0);
    assert.match(readFileSync(file, 'utf8'), /BEGIN CERTIFICATE/);
  });

  test('--rsa makes an RSA-2048 key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-mss-'));
    assert.equal(make(['--rsa'], dir).status, 0);
    const text = x509Text(join(dir, 'self.pem'));
    assert.match(text, /rsaEncryption/);
    assert.match(text, /Public-Key: \(2048 bit\)/);
    assert.match(text, /sha256WithRSAEncryption/);
  });

  for (const args of [['-d', 'abc'], ['-d', '1000'], ['--bogus']]) {
    test(`bad arguments (${args.join(' ')}) exit 2 with one line`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'wsproxy-mss-'));
      const r = make(args, dir);
      assert.equal(r.status, 2);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    });
  }
});
