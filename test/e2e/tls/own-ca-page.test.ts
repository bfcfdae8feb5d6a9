// The built-in page with wsproxy's own CA: /ca.crt is offered only when that CA really issued the certificate in use,
// and only the CA certificate is ever sent (never a key, even one pasted into ca.crt). Real https, trusted with `ca:`.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createAuthority } from '../../../src/certs/authority.js';
import { initStore } from '../../../src/certs/store.js';
import { startEchoTarget, startProxy, testCertificate, type TestTarget } from '../../helpers/proxy.js';

let root: string;
let target: TestTarget;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'wsproxy-ownca-'));
  target = await startEchoTarget();
});
after(async () => {
  await target.close();
  rmSync(root, { recursive: true, force: true });
});

async function fetchHttps(
  port: number,
  path: string,
  ca: string,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const req = get({
    host: '127.0.0.1',
    port,
    path,
    servername: 'localhost',
    ca,
    headers: { Host: `localhost:${port}` },
  });
  req.on('error', () => {});
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  await once(res, 'end');
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
}

async function makeStore(name: string): Promise<string> {
  const dir = join(root, name);
  await initStore(dir, { dns: ['localhost'], ips: ['127.0.0.1'] }, 2);
  return dir;
}

test('own CA in use: /ca.crt is the CA certificate only (x509-ca-cert, strict headers); info.json names it', async () => {
  const dir = await makeStore('good');
  const caPem = readFileSync(join(dir, 'ca.crt'), 'utf8');
  const proxy = await startProxy(target.port, { tls: { certFile: join(dir, 'server.pem') } });
  try {
    const res = await fetchHttps(proxy.port, '/ca.crt', caPem);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/x-x509-ca-cert');
    assert.match(String(res.headers['content-disposition']), /attachment; filename="wsproxy-ca\.crt"/);
    assert.match(String(res.headers['content-security-policy']), /default-src 'self'/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(new X509Certificate(res.body).fingerprint256, new X509Certificate(caPem).fingerprint256);
    assert.doesNotMatch(res.body, /PRIVATE KEY/);

    const info = JSON.parse((await fetchHttps(proxy.port, '/wsproxy/info.json', caPem)).body) as {
      ca?: { path: string; fingerprint256: string; subject: string };
      certificate: { names: string[] };
    };
    assert.equal(info.ca?.path, '/ca.crt');
    assert.equal(info.ca?.fingerprint256, new X509Certificate(caPem).fingerprint256);
    assert.match(info.ca?.subject ?? '', /CN=wsproxy CA localhost/);
    assert.deepEqual(info.certificate.names, ['localhost', '127.0.0.1']);

    const page = await fetchHttps(proxy.port, '/', caPem);
    assert.match(page.body, /id="ca" hidden/); // shown by the script once info.json says so
    assert.match(page.body, /Firefox/);
    assert.match(page.body, /Certificate Trust Settings/);
  } finally {
    await proxy.close();
  }
});

test('a key pasted into ca.crt is never served: the certificate is re-encoded from its parsed form', async () => {
  const dir = await makeStore('pasted');
  const caPem = readFileSync(join(dir, 'ca.crt'), 'utf8');
  writeFileSync(join(dir, 'ca.crt'), caPem + readFileSync(join(dir, 'ca.key'), 'utf8'));
  const proxy = await startProxy(target.port, { tls: { certFile: join(dir, 'server.pem') } });
  try {
    const res = await fetchHttps(proxy.port, '/ca.crt', caPem);
    assert.equal(res.status, 200);
    assert.doesNotMatch(res.body, /PRIVATE KEY/);
    assert.equal(res.body.match(/BEGIN CERTIFICATE/g)?.length, 1);
  } finally {
    await proxy.close();
  }
});

test('no own CA: /ca.crt is 404 for a self-signed certificate and for a ca.crt that did not issue the certificate', async () => {
  const self = await testCertificate();
  const plain = await startProxy(target.port);
  try {
    const res = await fetchHttps(plain.port, '/ca.crt', self.pem);
    assert.equal(res.status, 404);
    const info = JSON.parse((await fetchHttps(plain.port, '/wsproxy/info.json', self.pem)).body) as { ca?: unknown };
    assert.equal(info.ca, undefined);
  } finally {
    await plain.close();
  }

  const dir = await makeStore('mismatch');
  const caPem = readFileSync(join(dir, 'ca.crt'), 'utf8');
  writeFileSync(join(dir, 'ca.crt'), (await createAuthority('someone else')).certPem);
  const proxy = await startProxy(target.port, { tls: { certFile: join(dir, 'server.pem') } });
  try {
    assert.equal((await fetchHttps(proxy.port, '/ca.crt', caPem)).status, 404);
  } finally {
    await proxy.close();
  }
});
