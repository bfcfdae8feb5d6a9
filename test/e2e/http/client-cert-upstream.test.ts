// The verified client certificate reaches --http-upstream as X-SSL-Client-* headers; a client's own copies of those
// headers never do, and an unverified certificate yields only X-SSL-Client-Verify: FAILED:<reason>. Recordings get the
// same facts in a file beside the playback file.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import { request } from 'node:https';
import { after, before, describe, test } from 'node:test';
import {
  closed,
  openWs,
  startEchoTarget,
  startProxy,
  waitFor,
  type TestProxy,
  type TestTarget,
} from '../../helpers/proxy.js';
import { testPki, type ClientPair, type TestPki } from '../../helpers/pki.js';

let pki: TestPki;
let target: TestTarget;
let app: Server;
let proxy: TestProxy;
const seen: IncomingHttpHeaders[] = [];

before(async () => {
  pki = testPki();
  target = await startEchoTarget();
  app = createServer((req, res) => {
    seen.push(req.headers);
    res.end('app');
  });
  app.listen(0, '127.0.0.1');
  await once(app, 'listening');
  const appPort = (app.address() as { port: number }).port;
  proxy = await startProxy(target.port, {
    httpUpstream: `http://127.0.0.1:${appPort}`,
    tls: {
      certFile: pki.serverPem,
      clientCert: {
        mode: 'optional',
        caFile: pki.caFile,
        crlFile: pki.crlFile,
        verifyDepth: undefined,
        allowPlain: true,
        allow: [],
      },
    },
  });
});
after(async () => {
  await proxy?.close();
  await target?.close();
  app?.close();
});

/** GET /app over https with an optional client certificate and extra (forged) headers; the headers the app got. */
async function appHeaders(
  client: ClientPair | undefined,
  headers: Record<string, string> = {},
): Promise<IncomingHttpHeaders> {
  const before = seen.length;
  const req = request({
    host: '127.0.0.1',
    port: proxy.port,
    path: '/app',
    servername: 'localhost',
    ca: pki.ca,
    headers,
    ...(client ? { cert: client.cert, key: client.key } : {}),
  });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  res.resume();
  await once(res, 'end');
  assert.equal(res.statusCode, 200);
  assert.equal(seen.length, before + 1);
  return seen[before]!;
}

describe('client certificate facts to --http-upstream', () => {
  test('a verified certificate: Verify SUCCESS, subject, CN, issuer, serial, fingerprint, validity', async () => {
    const h = await appHeaders(pki.clients.good);
    assert.equal(h['x-ssl-client-verify'], 'SUCCESS');
    assert.equal(h['x-ssl-client-s-dn-cn'], 'alice');
    assert.match(String(h['x-ssl-client-s-dn']), /CN=alice/);
    assert.match(String(h['x-ssl-client-i-dn']), /CN=/);
    assert.match(String(h['x-ssl-client-serial']), /^[0-9A-F]+$/);
    assert.match(String(h['x-ssl-client-fingerprint']), /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.ok(h['x-ssl-client-v-end']);
  });

  test("a client's forged headers are replaced by the real facts", async () => {
    const forged = { 'X-SSL-Client-S-DN-CN': 'admin', 'x-ssl-client-verify': 'SUCCESS', SSL_CLIENT_S_DN_CN: 'admin' };
    const none = await appHeaders(undefined, forged);
    assert.equal(none['x-ssl-client-verify'], 'NONE');
    assert.equal(none['x-ssl-client-s-dn-cn'], undefined);
    assert.equal(none['ssl_client_s_dn_cn'], undefined);
    const good = await appHeaders(pki.clients.good, forged);
    assert.equal(good['x-ssl-client-s-dn-cn'], 'alice');
  });

  test('an unverified certificate (expired, other CA) gives only FAILED with the reason, no identity', async () => {
    const expired = await appHeaders(pki.clients.expired);
    assert.equal(expired['x-ssl-client-verify'], 'FAILED:CERT_HAS_EXPIRED');
    assert.equal(expired['x-ssl-client-s-dn-cn'], undefined);
    const other = await appHeaders(pki.clients.otherCa);
    assert.match(String(other['x-ssl-client-verify']), /^FAILED:/);
    assert.equal(other['x-ssl-client-s-dn'], undefined);
  });
});

describe('client certificate facts in recordings', () => {
  test('--record writes the playback file unchanged and the session facts, certificate included, beside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-rec-'));
    const prefix = join(dir, 'session');
    const recProxy = await startProxy(target.port, {
      recordPrefix: prefix,
      tls: {
        certFile: pki.serverPem,
        clientCert: {
          mode: 'required',
          caFile: pki.caFile,
          crlFile: pki.crlFile,
          verifyDepth: undefined,
          allowPlain: false,
          allow: [],
        },
      },
    });
    try {
      const ws = await openWs(`wss://127.0.0.1:${recProxy.port}/websockify`, {
        ca: pki.ca,
        cert: pki.clients.good.cert,
        key: pki.clients.good.key,
      });
      ws.send(Buffer.from('hi'));
      await once(ws, 'message');
      ws.close(1000);
      await closed(ws);
      await waitFor(
        () => existsSync(`${prefix}.1`) && readFileSync(`${prefix}.1`, 'utf8').endsWith("'EOF'];\n"),
        5_000,
        'recording closed',
      );
      assert.match(readFileSync(`${prefix}.1`, 'utf8'), /^var VNC_frame_data = \[\n/);
      const facts = JSON.parse(readFileSync(`${prefix}.1.json`, 'utf8')) as {
        scheme: string;
        target: string;
        client_certificate?: { verified: boolean; cn: string; sha256: string };
      };
      assert.equal(facts.scheme, 'wss');
      assert.equal(facts.client_certificate?.verified, true);
      assert.equal(facts.client_certificate?.cn, 'alice');
      assert.match(facts.client_certificate?.sha256 ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      assert.equal(statSync(`${prefix}.1.json`).mode & 0o777, 0o600);
    } finally {
      await recProxy.close();
    }
  });
});
