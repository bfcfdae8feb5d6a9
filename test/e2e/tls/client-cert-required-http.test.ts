// Issue #12, finding 4: --verify-client required guarded only upgrades; plain http:// on the same port reached the
// --http-upstream application, the --web files and the built-in pages with no certificate, and so did a TLS client
// whose certificate is on no --client-cert-allow pattern. Real sockets, a real upstream that counts its requests.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { connect } from 'node:net';
import type { ClientCertConfig } from '../../../src/config/types.js';
import { testPki, type ClientPair, type TestPki } from '../../helpers/pki.js';
import { startEchoTarget, startProxy, statusOf, type TestProxy, type TestTarget } from '../../helpers/proxy.js';

const SECRET_FILE_TEXT = 'web root file: only for certificate holders';

let pki: TestPki;
let target: TestTarget;
let app: Server;
let appPort = 0;
let appRequests = 0;
let webRoot: string;

before(async () => {
  pki = testPki();
  target = await startEchoTarget();
  app = createServer((_req, res) => {
    appRequests++;
    res.end('app answer');
  });
  app.listen(0, '127.0.0.1');
  await once(app, 'listening');
  appPort = (app.address() as { port: number }).port;
  webRoot = mkdtempSync(join(tmpdir(), 'wsproxy-web-'));
  writeFileSync(join(webRoot, 'file.txt'), SECRET_FILE_TEXT);
});
after(async () => {
  await target?.close();
  app?.close();
});

function policy(mode: 'optional' | 'required', allowPlain = false): ClientCertConfig {
  return { mode, caFile: pki.caFile, crlFile: undefined, verifyDepth: undefined, allowPlain, allow: ['alice'] };
}

/** wsproxy with --http-upstream, and with --web when `web` (then the built-in pages are not served). */
function proxyWith(clientCert: ClientCertConfig, web: boolean): Promise<TestProxy> {
  return startProxy(target.port, {
    httpUpstream: `http://127.0.0.1:${appPort}`,
    ...(web ? { webRoot } : {}),
    tls: { certFile: pki.serverPem, clientCert },
  });
}

/** One GET on a fresh plain or TLS connection (with `client`'s certificate), the whole raw answer. */
async function get(port: number, path: string, over: 'plain' | { client?: ClientPair }): Promise<string> {
  const socket =
    over === 'plain'
      ? connect(port, '127.0.0.1')
      : tlsConnect({
          host: '127.0.0.1',
          port,
          servername: 'localhost',
          ca: pki.ca,
          ...(over.client ? { cert: over.client.cert, key: over.client.key } : {}),
        });
  socket.on('error', () => {});
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.once(over === 'plain' ? 'connect' : 'secureConnect', () =>
    socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`),
  );
  const timer = setTimeout(() => socket.destroy(), 5_000);
  await new Promise((resolve) => socket.once('close', resolve));
  clearTimeout(timer);
  return Buffer.concat(chunks).toString('utf8');
}

const reasonOf = (answer: string): string | undefined => /X-Wsproxy-Reason: (\S+)/i.exec(answer)?.[1];
const PATHS = { web: '/file.txt', upstream: '/app/data', builtin: '/wsproxy/info.json' } as const;

describe('--verify-client required covers every request on the listener', () => {
  let withWeb: TestProxy;
  let builtin: TestProxy;
  before(async () => {
    withWeb = await proxyWith(policy('required'), true);
    builtin = await proxyWith(policy('required'), false);
  });
  after(async () => {
    await withWeb?.close();
    await builtin?.close();
  });
  const portFor = (what: keyof typeof PATHS): number => (what === 'builtin' ? builtin.port : withWeb.port);

  test('plain http://: 403 HTTPS_REQUIRED saying to use https, no content, the upstream sees nothing', async () => {
    const before = appRequests;
    for (const what of ['web', 'upstream', 'builtin'] as const) {
      const answer = await get(portFor(what), PATHS[what], 'plain');
      assert.equal(statusOf(answer), 403, `${what}: ${answer}`);
      assert.equal(reasonOf(answer), 'HTTPS_REQUIRED', what);
      assert.match(answer, /use https:\/\//);
      assert.doesNotMatch(answer, /web root file|app answer|"version"/, `${what}: no content`);
    }
    assert.equal(appRequests, before, 'the upstream got no request');
    assert.ok(withWeb.logs.some((l) => l.includes('reason=HTTPS_REQUIRED') && l.includes('path=/app/data')));
  });

  test('TLS with a valid certificate on no allowlist pattern: 403 CLIENT_CERT_NOT_ALLOWED everywhere, saying why', async () => {
    const before = appRequests;
    for (const what of ['web', 'upstream', 'builtin'] as const) {
      const answer = await get(portFor(what), PATHS[what], { client: pki.clients.notAllowed });
      assert.equal(statusOf(answer), 403, `${what}: ${answer}`);
      assert.equal(reasonOf(answer), 'CLIENT_CERT_NOT_ALLOWED', what);
      assert.match(answer, /client certificate is valid but not allowed/);
      assert.doesNotMatch(answer, /web root file|app answer|"version"/, `${what}: no content`);
    }
    assert.equal(appRequests, before, 'the upstream got no request');
  });

  test('TLS with no certificate: refused at the handshake, as before', async () => {
    assert.equal(await get(withWeb.port, PATHS.web, {}), '');
  });

  test('TLS with a good certificate: the file, the upstream and the built-in page are served', async () => {
    const before = appRequests;
    const file = await get(withWeb.port, PATHS.web, { client: pki.clients.good });
    assert.equal(statusOf(file), 200);
    assert.match(file, /web root file/);
    const upstream = await get(withWeb.port, PATHS.upstream, { client: pki.clients.good });
    assert.equal(statusOf(upstream), 200);
    assert.match(upstream, /app answer/);
    assert.equal(appRequests, before + 1, 'the upstream counts requests');
    assert.equal(statusOf(await get(builtin.port, PATHS.builtin, { client: pki.clients.good })), 200);
  });
});

describe('what stays open', () => {
  test('optional: plain http:// and TLS without a certificate get pages, files and the upstream as before', async () => {
    const proxy = await proxyWith(policy('optional'), true);
    try {
      assert.equal(statusOf(await get(proxy.port, PATHS.web, 'plain')), 200);
      assert.equal(statusOf(await get(proxy.port, PATHS.upstream, {})), 200);
      assert.equal(statusOf(await get(proxy.port, PATHS.web, { client: pki.clients.notAllowed })), 200);
    } finally {
      await proxy.close();
    }
  });

  test('required with --allow-plain-with-verify-client: plain requests pass (a balancer terminates TLS)', async () => {
    const proxy = await proxyWith(policy('required', true), true);
    try {
      assert.equal(statusOf(await get(proxy.port, PATHS.web, 'plain')), 200);
      assert.equal(statusOf(await get(proxy.port, PATHS.upstream, 'plain')), 200);
    } finally {
      await proxy.close();
    }
  });
});
