// scripts/make-self-signed.sh, run for real: the certificate it makes is one browsers and iOS accept (SAN, CA:FALSE,
// serverAuth, SHA-256, P-256 or RSA-2048), the file is 0600, and a real TLS client verifies it when it trusts it with
// `ca:` (never by turning verification off). Every test works in its own temp dir, removed afterwards.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { connect, createServer } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';

// Compiled to dist/test/e2e/tls/make-self-signed.test.js: the repository root is four levels up.
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SCRIPT = join(REPO_ROOT, 'scripts', 'make-self-signed.sh');

interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the script itself (its shebang and exec bit included) with `cwd` as the working directory. */
function run(args: readonly string[], cwd: string): RunResult {
  const r = spawnSync(SCRIPT, args, { cwd, encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh directory under os.tmpdir(), removed when the test ends. */
function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'wsproxy-mss-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function x509Text(file: string): string {
  return execFileSync('openssl', ['x509', '-in', file, '-noout', '-text'], { encoding: 'utf8' });
}

function mode(file: string): number {
  return statSync(file).mode & 0o777;
}

function stderrLines(r: RunResult): string[] {
  return r.stderr.split('\n').filter((l) => l !== '');
}

test('default run: self.pem (cert then key, mode 0600), CA:FALSE, serverAuth, SAN, ECDSA P-256 SHA-256, fingerprint', (t) => {
  const dir = tempDir(t);
  const r = run([], dir);
  assert.equal(r.status, 0, r.stderr);
  const file = join(dir, 'self.pem');
  assert.equal(mode(file), 0o600);

  const text = x509Text(file);
  assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
  assert.doesNotMatch(text, /CA:TRUE/);
  assert.match(text, /Key Usage: critical\s+Digital Signature\n/);
  assert.match(text, /Extended Key Usage:\s*\n\s+TLS Web Server Authentication\n/);
  assert.match(text, /DNS:localhost/);
  assert.match(text, /IP Address:127\.0\.0\.1/);
  assert.match(text, /IP Address:0:0:0:0:0:0:0:1/);
  assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
  assert.doesNotMatch(text, /sha256WithRSAEncryption|sha1With/);
  assert.match(text, /ASN1 OID: prime256v1/);
  assert.match(text, /NIST CURVE: P-256/);
  assert.match(text, /Subject: CN = localhost\n/);

  // websockify's self.pem: the certificate, then its unencrypted private key, in one file.
  const pem = readFileSync(file, 'utf8');
  const certAt = pem.indexOf('-----BEGIN CERTIFICATE-----');
  const keyAt = pem.indexOf('-----BEGIN PRIVATE KEY-----');
  assert.ok(certAt === 0 && keyAt > certAt, 'certificate first, then the private key');
  assert.doesNotMatch(pem, /ENCRYPTED/);
  const cert = new X509Certificate(pem);
  assert.equal(cert.ca, false);
  assert.ok(cert.checkPrivateKey(createPrivateKey(pem)), 'the key in the file belongs to the certificate');

  assert.match(cert.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.ok(
    r.stdout.includes(`Fingerprint=${cert.fingerprint256}`),
    `fingerprint ${cert.fingerprint256} in:\n${r.stdout}`,
  );
  assert.match(r.stdout, /DNS:localhost/);
  assert.match(r.stdout, /IP:127\.0\.0\.1/);
});

test('-o custom.pem -d 30 with names and IPs: exactly that SAN, CN = first name, valid 30 days', (t) => {
  const dir = tempDir(t);
  const r = run(['-o', 'custom.pem', '-d', '30', 'example.test', '192.0.2.7', '2001:db8::1'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(existsSync(join(dir, 'self.pem')), false);
  const file = join(dir, 'custom.pem');
  assert.equal(mode(file), 0o600);

  const cert = new X509Certificate(readFileSync(file));
  assert.equal(cert.subjectAltName, 'DNS:example.test, IP Address:192.0.2.7, IP Address:2001:DB8:0:0:0:0:0:1');
  assert.equal(cert.subject, 'CN=example.test');
  const san = execFileSync('openssl', ['x509', '-in', file, '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' });
  assert.equal(san.split('\n')[1]?.trim(), 'DNS:example.test, IP Address:192.0.2.7, IP Address:2001:DB8:0:0:0:0:0:1');

  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  assert.ok(Number.isFinite(from) && Number.isFinite(to), `${cert.validFrom} / ${cert.validTo}`);
  const days = (to - from) / 86_400_000;
  assert.ok(Math.abs(days - 30) <= 2, `valid ${days} days`);
  assert.ok(Math.abs(from - Date.now()) < 2 * 86_400_000, `valid from ${cert.validFrom}`);
});

/** Connects and settles on the handshake: the socket once verified, or the verification error. */
function tlsHandshake(options: { port: number; servername?: string; ca?: string }): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', ...options });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', (err: Error) => {
      socket.destroy();
      reject(err);
    });
  });
}

test('a real TLS client verifies it for localhost and 127.0.0.1, and rejects another name', async (t) => {
  const dir = tempDir(t);
  assert.equal(run([], dir).status, 0);
  const pem = readFileSync(join(dir, 'self.pem'), 'utf8');

  const sockets = new Set<Socket>();
  const server = createServer({ cert: pem, key: pem }, (s) => s.end('ok'));
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => {}); // the rejected handshake below aborts on the client side
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  try {
    const good = await tlsHandshake({ port, servername: 'localhost', ca: pem });
    assert.equal(good.authorized, true);
    assert.equal(good.authorizationError, null);
    good.destroy();

    const byIp = await tlsHandshake({ port, ca: pem });
    assert.equal(byIp.authorized, true);
    byIp.destroy();

    await assert.rejects(tlsHandshake({ port, servername: 'other.example', ca: pem }), (err: NodeJS.ErrnoException) => {
      assert.equal(err.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
      return true;
    });

    // And without trusting it, it is (rightly) a self-signed certificate nobody vouches for.
    await assert.rejects(tlsHandshake({ port, servername: 'localhost' }), (err: NodeJS.ErrnoException) => {
      assert.equal(err.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
      return true;
    });
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
    await once(server, 'close');
  }
});

test('refuses to overwrite without -f (file unchanged); -f replaces it with a new key, still 0600', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'self.pem');
  assert.equal(run([], dir).status, 0);
  const before = readFileSync(file, 'utf8');
  const fpBefore = new X509Certificate(before).fingerprint256;

  const again = run([], dir);
  assert.notEqual(again.status, 0);
  assert.equal(again.status, 1);
  assert.equal(stderrLines(again).length, 1, again.stderr);
  assert.match(again.stderr, /-f/);
  assert.equal(readFileSync(file, 'utf8'), before);
  assert.equal(mode(file), 0o600);

  // Even over a file someone made world-readable, the new key never is.
  chmodSync(file, 0o644);
  const forced = run(['-f'], dir);
  assert.equal(forced.status, 0, forced.stderr);
  const after = readFileSync(file, 'utf8');
  const fpAfter = new X509Certificate(after).fingerprint256;
  assert.notEqual(fpAfter, fpBefore);
  assert.ok(forced.stdout.includes(`Fingerprint=${fpAfter}`), forced.stdout);
  assert.equal(mode(file), 0o600);
});

test('--rsa makes an RSA-2048 key signed with SHA-256, keyUsage adds keyEncipherment', (t) => {
  const dir = tempDir(t);
  const r = run(['--rsa'], dir);
  assert.equal(r.status, 0, r.stderr);
  const file = join(dir, 'self.pem');
  assert.equal(mode(file), 0o600);
  const text = x509Text(file);
  assert.match(text, /Public Key Algorithm: rsaEncryption/);
  assert.match(text, /Public-Key: \(2048 bit\)/);
  assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
  assert.match(text, /Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
  assert.match(text, /CA:FALSE/);
  assert.doesNotMatch(text, /CA:TRUE/);
  const pem = readFileSync(file, 'utf8');
  const cert = new X509Certificate(pem);
  assert.equal(cert.publicKey.asymmetricKeyType, 'rsa');
  assert.equal(cert.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  assert.ok(cert.checkPrivateKey(createPrivateKey(pem)));
});

for (const args of [['-d', 'abc'], ['--bogus'], ['-d', '0'], ['-d', '826'], ['-o']]) {
  test(`bad arguments (${args.join(' ')}): exit 2, exactly one line on stderr, no file`, (t) => {
    const dir = tempDir(t);
    const r = run(args, dir);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(stderrLines(r).length, 1, r.stderr);
    assert.match(r.stderr, /^make-self-signed: .+\n$/);
    assert.equal(r.stdout, '');
    assert.equal(existsSync(join(dir, 'self.pem')), false);
  });
}

test('-h prints the usage and makes nothing', (t) => {
  const dir = tempDir(t);
  const r = run(['-h'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Usage: .*make-self-signed\.sh \[-o FILE\] \[-d DAYS\] \[-f\] \[--rsa\] \[NAME\|IP \.\.\.\]/);
  assert.equal(existsSync(join(dir, 'self.pem')), false);
});
