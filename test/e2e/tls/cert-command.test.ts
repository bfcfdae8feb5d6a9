// `wsproxy cert init|user|revoke|list`, run as the real CLI: every artefact is checked by OpenSSL itself
// (`x509 -text`, `pkcs12 -info`, `crl -text`) and used in a real mutual-TLS handshake trusted with `ca:` only.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { runCli, type CliResult } from '../../helpers/proxy.js';

const PASSWORD = 'corr3ct horse ☃';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'wsproxy-cert-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function cli(args: string[], env: Record<string, string> = {}): CliResult {
  // stdin is not a terminal here, so `cert user` can never fall back to a prompt.
  return runCli(args, { env, unset: 'WSPROXY_P12_PASSWORD' in env ? [] : ['WSPROXY_P12_PASSWORD'], timeoutMs: 30_000 });
}

function ok(args: string[], env: Record<string, string> = {}): string {
  const r = cli(args, env);
  assert.equal(r.status, 0, `wsproxy ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8' });
}

/** `openssl pkcs12 -info` prints the algorithms on stderr and the certificates on stdout: both, checked for success. */
function pkcs12Info(file: string, password: string): string {
  const r = spawnSync('openssl', ['pkcs12', '-info', '-nokeys', '-in', file, '-passin', `pass:${password}`], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  // Only OpenSSL's description: the certificates' base64 may spell RC2 or sha1 by chance (a flaky match, seen in CI).
  return (r.stderr + r.stdout).replace(/-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----\n?/g, '');
}

function days(text: string): number {
  const from = /Not Before: (.*)\n/.exec(text)?.[1];
  const to = /Not After : (.*)\n/.exec(text)?.[1];
  assert.ok(from && to, 'validity printed');
  return Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000);
}

function initWithUsers(t: TestContext): { dir: string; pwFile: string } {
  const root = tempDir(t);
  const dir = join(root, 'ca');
  const pwFile = join(root, 'pw.txt');
  writeFileSync(pwFile, PASSWORD + '\n', { mode: 0o600 });
  ok(['cert', 'init', '--cert-dir', dir, '--host', 'localhost', '127.0.0.1', '::1']);
  ok(['cert', 'user', 'alice', '--cert-dir', dir, '--p12-password-file', pwFile]);
  ok(['--generate-user-pkcs', 'bob', '--cert-dir', dir, '--p12-compat'], { WSPROXY_P12_PASSWORD: PASSWORD });
  return { dir, pwFile };
}

test('cert init: a P-256 CA (10 years, pathlen 0, key 0600) and a server certificate browsers and Apple accept', (t) => {
  const dir = join(tempDir(t), 'ca');
  const out = ok(['cert', 'init', '--cert-dir', dir, '--host', 'vnc.example.test', '192.0.2.7', '[2001:db8::7]']);
  assert.match(out, /made a new CA/);
  assert.equal(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'server.pem')).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);

  const ca = openssl(['x509', '-in', join(dir, 'ca.crt'), '-noout', '-text']);
  assert.match(ca, /Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
  assert.match(ca, /Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
  assert.match(ca, /NIST CURVE: P-256/);
  assert.match(ca, /Signature Algorithm: ecdsa-with-SHA256/);
  assert.ok(Math.abs(days(ca) - 3652) <= 2, `CA valid ~10 years, got ${days(ca)} days`);
  assert.doesNotMatch(readFileSync(join(dir, 'ca.crt'), 'utf8'), /PRIVATE KEY/);

  const leaf = openssl(['x509', '-in', join(dir, 'server.pem'), '-noout', '-text']);
  assert.match(leaf, /Basic Constraints: critical\s+CA:FALSE/);
  assert.match(leaf, /Extended Key Usage:\s*\n\s+TLS Web Server Authentication\n/);
  assert.match(leaf, /Key Usage: critical\s+Digital Signature\n/);
  assert.match(leaf, /DNS:vnc\.example\.test, IP Address:192\.0\.2\.7, IP Address:2001:DB8:0:0:0:0:0:7/);
  assert.match(leaf, /Issuer: CN = wsproxy CA vnc\.example\.test [0-9a-f]{6}, O = wsproxy/);
  assert.equal(days(leaf), 365);
  assert.match(openssl(['verify', '-CAfile', join(dir, 'ca.crt'), join(dir, 'server.pem')]), /OK/);

  // Again with --days: the CA is kept (people may have installed it), the server certificate is re-issued under it.
  const caBefore = readFileSync(join(dir, 'ca.crt'), 'utf8');
  assert.match(
    ok(['--generate-certs', '--host', 'localhost', '--days', '30', '--cert-dir', dir]),
    /kept the existing CA/,
  );
  assert.equal(readFileSync(join(dir, 'ca.crt'), 'utf8'), caBefore);
  assert.equal(days(openssl(['x509', '-in', join(dir, 'server.pem'), '-noout', '-text'])), 30);
  assert.match(openssl(['verify', '-CAfile', join(dir, 'ca.crt'), join(dir, 'server.pem')]), /OK/);
});

test('cert command errors: one line naming the fix, exit 2, nothing written', (t) => {
  const root = tempDir(t);
  const web = join(root, 'www');
  mkdirSync(web);
  const cases: [string[], RegExp][] = [
    [['cert', 'init', '--cert-dir', join(web, 'ca'), '--web', web, '--host', 'localhost'], /inside the --web root/],
    [
      ['cert', 'init', '--cert-dir', join(root, 'a'), '--host', 'localhost', '--days', '826'],
      /--days: 826 is out of range .*1-825/,
    ],
    [['cert', 'init', '--cert-dir', join(root, 'a'), '--host', 'bad_name!'], /--host: 'bad_name!' is not a host name/],
    [['cert', 'user', 'alice', '--cert-dir', join(root, 'none')], /the \.p12 needs a password/],
    [
      ['cert', 'user', 'alice', '--cert-dir', join(root, 'none'), '--p12-password-file', join(root, 'missing')],
      /--p12-password-file: cannot read/,
    ],
    [['cert', 'revoke', 'alice', '--cert-dir', join(root, 'none')], /no CA in .*run 'wsproxy cert init/],
    [['cert', 'frobnicate'], /choose one of init, user, revoke, list/],
    [['cert', 'user', '--cert-dir', join(root, 'a')], /needs exactly one user name/],
    [['--host', 'localhost', '6080', 'localhost:5900'], /--host goes with 'wsproxy cert/],
  ];
  for (const [args, message] of cases) {
    const r = cli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  // The refused web-root directory was not created.
  assert.throws(() => statSync(join(web, 'ca')), /ENOENT/);
  // An empty password from the environment is refused too.
  const empty = cli(['cert', 'user', 'eve', '--cert-dir', join(root, 'none')], { WSPROXY_P12_PASSWORD: '' });
  assert.equal(empty.status, 2);
  assert.match(empty.stderr, /WSPROXY_P12_PASSWORD is empty/);
});

test('cert user: a clientAuth certificate; .p12 is AES-256/PBKDF2/SHA-256 by default, 3DES/SHA-1 with --p12-compat, never RC2', (t) => {
  const { dir } = initWithUsers(t);
  const crt = openssl(['x509', '-in', join(dir, 'users', 'alice.crt'), '-noout', '-text']);
  assert.match(crt, /Extended Key Usage:\s*\n\s+TLS Web Client Authentication\n/);
  assert.match(crt, /Basic Constraints: critical\s+CA:FALSE/);
  assert.match(crt, /Subject: CN = alice/);
  assert.equal(days(crt), 365);
  assert.equal(statSync(join(dir, 'users', 'alice.p12')).mode & 0o777, 0o600);

  const info = pkcs12Info(join(dir, 'users', 'alice.p12'), PASSWORD);
  assert.match(info, /MAC: sha256/);
  assert.match(info, /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration \d+, PRF hmacWithSHA256/);
  assert.match(info, /PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC/);
  assert.match(info, /friendlyName: alice/);
  assert.match(info, /subject=CN = alice/);
  assert.match(info, /subject=CN = wsproxy CA/); // the CA rides along, so stores show the chain
  assert.doesNotMatch(info, /RC2|3DES|sha1/i);

  // OpenSSL 3 reads the compat file WITHOUT -legacy: 3DES is in its default provider; only RC2-40 needs -legacy.
  const compat = pkcs12Info(join(dir, 'users', 'bob.p12'), PASSWORD);
  assert.match(compat, /MAC: sha1/);
  assert.match(compat, /Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC/);
  assert.match(compat, /PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC/);
  assert.doesNotMatch(compat, /RC2/);

  // A wrong password is refused by OpenSSL (the MAC holds).
  const wrong = spawnSync(
    'openssl',
    ['pkcs12', '-info', '-nokeys', '-in', join(dir, 'users', 'alice.p12'), '-passin', 'pass:wrong'],
    { encoding: 'utf8' },
  );
  assert.notEqual(wrong.status, 0);
  assert.match(wrong.stderr, /mac verify (failure|error)/i);

  // The same name again while its certificate is valid: refused (revoke first).
  const again = cli(['cert', 'user', 'alice', '--cert-dir', dir], { WSPROXY_P12_PASSWORD: PASSWORD });
  assert.equal(again.status, 2);
  assert.match(again.stderr, /already has a valid certificate; run 'wsproxy cert revoke alice'/);
});

/** A TLS server that requires a client certificate from the generated CA (and honours `crl` if given). */
async function mtlsServer(t: TestContext, dir: string, crl?: Buffer, rejectUnauthorized = true) {
  const pem = readFileSync(join(dir, 'server.pem'));
  const server = createServer({
    cert: pem,
    key: pem,
    ca: readFileSync(join(dir, 'ca.crt')),
    requestCert: true,
    rejectUnauthorized,
    ...(crl ? { crl } : {}),
  });
  const accepted: string[] = [];
  const refused: string[] = [];
  const verdicts: string[] = [];
  server.on('secureConnection', (socket: TLSSocket) => {
    socket.on('error', () => {});
    verdicts.push(socket.authorized ? 'authorized' : String(socket.authorizationError));
    accepted.push(String(socket.getPeerCertificate().subject?.CN));
    socket.end('hello ' + String(socket.getPeerCertificate().subject?.CN));
  });
  server.on('tlsClientError', (err: Error) => refused.push(err.message));
  server.on('error', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return { port: (server.address() as AddressInfo).port, accepted, refused, verdicts };
}

/** Connects with a .p12 and returns what the server said, or the error. */
async function connectWithP12(port: number, dir: string, user: string): Promise<{ data: string; error?: string }> {
  const socket = connect({
    host: '127.0.0.1',
    port,
    servername: 'localhost',
    ca: readFileSync(join(dir, 'ca.crt')),
    pfx: readFileSync(join(dir, 'users', `${user}.p12`)),
    passphrase: PASSWORD,
  });
  let data = '';
  let error: string | undefined;
  socket.on('data', (d: Buffer) => (data += d.toString()));
  socket.on('error', (err: Error) => (error = err.message));
  await once(socket, 'close');
  return error === undefined ? { data } : { data, error };
}

test('real mutual TLS with the .p12 files; after cert revoke the CRL makes the server refuse that user only', async (t) => {
  const { dir } = initWithUsers(t);
  const open = await mtlsServer(t, dir);
  assert.deepEqual(await connectWithP12(open.port, dir, 'alice'), { data: 'hello alice' });
  assert.deepEqual(await connectWithP12(open.port, dir, 'bob'), { data: 'hello bob' }); // the 3DES file loads in Node too

  const before = openssl(['crl', '-in', join(dir, 'crl.pem'), '-noout', '-text']);
  assert.match(before, /No Revoked Certificates/);
  const serial = /serial ([0-9a-f]+)/.exec(ok(['cert', 'revoke', 'alice', '--cert-dir', dir]))?.[1];
  assert.ok(serial, 'revoke prints the serial');
  const crlText = openssl(['crl', '-in', join(dir, 'crl.pem'), '-noout', '-text']);
  assert.match(crlText, new RegExp(`Serial Number: ${serial.toUpperCase()}`));
  assert.match(crlText, /Issuer: CN = wsproxy CA localhost/);
  // Signed by the CA: OpenSSL verifies the CRL's signature against ca.crt.
  const verified = spawnSync(
    'openssl',
    ['crl', '-in', join(dir, 'crl.pem'), '-noout', '-CAfile', join(dir, 'ca.crt')],
    { encoding: 'utf8' },
  );
  assert.equal(verified.status, 0);
  assert.match(verified.stderr + verified.stdout, /verify OK/);

  const guarded = await mtlsServer(t, dir, readFileSync(join(dir, 'crl.pem')));
  const revoked = await connectWithP12(guarded.port, dir, 'alice');
  assert.notEqual(revoked.data, 'hello alice');
  assert.equal(guarded.refused.length, 1);
  // Why: a server that records instead of refusing sees OpenSSL's verdict CERT_REVOKED for alice, none for bob.
  const observer = await mtlsServer(t, dir, readFileSync(join(dir, 'crl.pem')), false);
  await connectWithP12(observer.port, dir, 'alice');
  await connectWithP12(observer.port, dir, 'bob');
  assert.deepEqual(observer.verdicts, ['CERT_REVOKED', 'authorized']);
  assert.deepEqual(guarded.accepted, []);
  // A good client still gets through the same server afterwards.
  assert.deepEqual(await connectWithP12(guarded.port, dir, 'bob'), { data: 'hello bob' });

  const list = ok(['cert', 'list', '--cert-dir', dir]);
  assert.match(list, new RegExp(`user\\s+alice\\s+${serial}.* revoked `));
  assert.match(list, /user\s+bob\s+[0-9a-f]+ .* valid/);
  assert.match(list, /server\s+localhost,127\.0\.0\.1,::1/);
  // After revoking, the name can be issued again.
  ok(['cert', 'user', 'alice', '--cert-dir', dir], { WSPROXY_P12_PASSWORD: PASSWORD });
  assert.deepEqual(await connectWithP12(guarded.port, dir, 'alice'), { data: 'hello alice' });
});
