// The metrics follow typed events (src/events.ts), not log lines: servers that log nothing still count, and two
// servers in one process never count each other's refusals, sessions or reloads.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createServer, type WsProxyServer } from '../../../src/server/index.js';
import { adminRequest } from '../../helpers/admin.js';
import { parsePrometheus, sampleValue } from '../../helpers/prom.js';
import {
  closed,
  exchange,
  openWs,
  proxyConfig,
  startEchoTarget,
  statusOf,
  testCertificate,
  upgradeRequest,
  waitFor,
  type TestTarget,
} from '../../helpers/proxy.js';

const ADMIN = { listen: { kind: 'tcp', host: '127.0.0.1', port: 0 }, token: undefined } as const;

// No logger at all: the server logs nothing, so nothing could be counted from its lines.
async function silentProxy(targetPort: number): Promise<{ server: WsProxyServer; port: number; admin: string }> {
  const server = createServer(await proxyConfig(targetPort, { admin: ADMIN }), { version: 'test' });
  await server.listen();
  const port = server.addresses()[0]?.port;
  if (port === undefined) throw new Error('proxy did not bind');
  return { server, port, admin: server.adminAddress() ?? '' };
}

async function scrape(admin: string): Promise<ReturnType<typeof parsePrometheus>> {
  const res = await adminRequest(admin, 'GET', '/metrics');
  assert.equal(res.status, 200);
  return parsePrometheus(res.body);
}

async function scrapeUntil(
  admin: string,
  done: (m: ReturnType<typeof parsePrometheus>) => boolean,
): Promise<ReturnType<typeof parsePrometheus>> {
  const end = Date.now() + 5000;
  for (;;) {
    const m = await scrape(admin);
    if (done(m) || Date.now() > end) return m;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('metrics from events', () => {
  let target: TestTarget;
  let a: Awaited<ReturnType<typeof silentProxy>>;
  let b: Awaited<ReturnType<typeof silentProxy>>;
  before(async () => {
    target = await startEchoTarget();
    a = await silentProxy(target.port);
    b = await silentProxy(target.port);
  });
  after(async () => {
    await a.server.close();
    await b.server.close();
    await target.close();
  });

  test('two silent servers in one process keep separate counts', async () => {
    const badVersion = upgradeRequest('/websockify', { 'Sec-WebSocket-Version': '12' });
    // One refusal on a plain socket, one on a TLS socket (each claimed by its server at accept / after the handshake).
    assert.equal(statusOf(await exchange(a.port, badVersion)), 426);
    const { pem } = await testCertificate();
    assert.equal(statusOf(await exchange(a.port, badVersion, { tls: true, ca: pem })), 426);
    await exchange(a.port, Buffer.from('160301000401000000', 'hex')); // an empty ClientHello: TLS fails at once
    assert.equal(statusOf(await exchange(b.port, upgradeRequest('/nowhere', { Upgrade: 'h2c' }))), 400);
    const ws = await openWs(`ws://127.0.0.1:${b.port}/websockify`);
    ws.close(1000);
    await closed(ws);
    await waitFor(() => b.server.stats().activeSessions === 0, 5000, 'the session on b to end');
    assert.equal((await b.server.reload('test')).ok, true);

    // The TLS failure is counted as its socket is destroyed: poll rather than race the scrape against it.
    const ma = await scrapeUntil(a.admin, (m) => sampleValue(m, 'wsproxy_tls_handshake_failures_total') === 1);
    const mb = await scrape(b.admin);
    assert.equal(sampleValue(ma, 'wsproxy_handshake_failures_total', { reason: 'UNSUPPORTED_VERSION' }), 2);
    assert.equal(sampleValue(ma, 'wsproxy_handshake_failures_total', { reason: 'TLS_HANDSHAKE_FAILED' }), 1);
    assert.equal(sampleValue(ma, 'wsproxy_tls_handshake_failures_total'), 1);
    assert.equal(ma.get('wsproxy_handshake_failures_total')?.samples.length, 2);
    assert.equal(sampleValue(ma, 'wsproxy_sessions_total', { reason: 'CLIENT_CLOSED' }), undefined);
    assert.equal(sampleValue(ma, 'wsproxy_config_reloads_total', { result: 'ok' }), undefined);

    assert.equal(sampleValue(mb, 'wsproxy_handshake_failures_total', { reason: 'BAD_HANDSHAKE' }), 1);
    assert.equal(mb.get('wsproxy_handshake_failures_total')?.samples.length, 1);
    assert.equal(sampleValue(mb, 'wsproxy_tls_handshake_failures_total'), 0);
    assert.equal(sampleValue(mb, 'wsproxy_sessions_total', { reason: 'CLIENT_CLOSED' }), 1);
    assert.equal(sampleValue(mb, 'wsproxy_target_connect_seconds_count', { outcome: 'ok' }), 1);
    assert.equal(sampleValue(mb, 'wsproxy_config_reloads_total', { result: 'ok' }), 1);
  });
});
