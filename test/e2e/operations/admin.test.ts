// The admin listener against a real in-process proxy: Prometheus metrics after known traffic (parsed strictly),
// health and readiness, the session list and DELETE (1008), and the bearer token.
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tokenHash } from '../../../src/targets/token.js';
import { adminRequest } from '../../helpers/admin.js';
import { parsePrometheus, sampleValue } from '../../helpers/prom.js';
import {
  closed,
  exchange,
  freePort,
  openWs,
  startEchoTarget,
  startProxy,
  statusOf,
  upgradeRequest,
  waitFor,
  type TestProxy,
  type TestTarget,
} from '../../helpers/proxy.js';

const ADMIN_TOKEN = 'admin-bearer-0123456789abcdef';

async function echoOnce(ws: Awaited<ReturnType<typeof openWs>>, payload: Buffer): Promise<void> {
  const got: Buffer[] = [];
  let n = 0;
  const done = new Promise<void>((resolve) => {
    ws.on('message', (d: Buffer) => {
      got.push(d);
      n += d.length;
      if (n >= payload.length) resolve();
    });
  });
  ws.send(payload);
  await done;
  assert.deepEqual(Buffer.concat(got), payload);
}

describe('admin listener: metrics after known traffic', () => {
  let target: TestTarget;
  let proxy: TestProxy;
  let admin: string;
  before(async () => {
    target = await startEchoTarget();
    proxy = await startProxy(target.port, {
      admin: { listen: { kind: 'tcp', host: '127.0.0.1', port: 0 }, token: ADMIN_TOKEN },
    });
    admin = proxy.server.adminAddress() ?? '';
  });
  after(async () => {
    await proxy.close();
    await target.close();
  });

  test('two sessions, one refusal, one failed TLS handshake: counters and bytes are exact', async () => {
    const a = await openWs(`ws://127.0.0.1:${proxy.port}/websockify`);
    await echoOnce(a, Buffer.alloc(5, 1));
    const b = await openWs(`wss://127.0.0.1:${proxy.port}/websockify`, { ca: proxy.ca });
    await echoOnce(b, Buffer.alloc(100, 2));

    // While both are open: active sessions by scheme and live bytes.
    let m = parsePrometheus((await adminRequest(admin, 'GET', '/metrics', ADMIN_TOKEN)).body);
    assert.equal(sampleValue(m, 'wsproxy_sessions_active', { scheme: 'ws' }), 1);
    assert.equal(sampleValue(m, 'wsproxy_sessions_active', { scheme: 'wss' }), 1);
    assert.equal(sampleValue(m, 'wsproxy_bytes_total', { direction: 'from_client' }), 105);

    a.close(1000);
    b.close(1000);
    await Promise.all([closed(a), closed(b)]);
    const refused = await exchange(proxy.port, upgradeRequest('/websockify', { 'Sec-WebSocket-Version': '12' }));
    assert.equal(statusOf(refused), 426);
    // The TLS stage fails this handshake at once.
    await exchange(proxy.port, Buffer.from('160301000401000000', 'hex')); // an empty ClientHello
    await waitFor(() => proxy.server.stats().activeSessions === 0, 5000, 'sessions to end');
    await waitFor(() => proxy.logs.some((l) => l.includes('reason=TLS_HANDSHAKE_FAILED')), 5000, 'TLS failure line');

    const res = await adminRequest(admin, 'GET', '/metrics', ADMIN_TOKEN);
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    m = parsePrometheus(res.body);
    assert.equal(sampleValue(m, 'wsproxy_sessions_total', { reason: 'CLIENT_CLOSED' }), 2);
    assert.equal(sampleValue(m, 'wsproxy_sessions_active', { scheme: 'ws' }), 0);
    assert.equal(sampleValue(m, 'wsproxy_sessions_active', { scheme: 'wss' }), 0);
    assert.equal(sampleValue(m, 'wsproxy_bytes_total', { direction: 'from_client' }), 105);
    assert.equal(sampleValue(m, 'wsproxy_bytes_total', { direction: 'to_client' }), 105);
    assert.equal(sampleValue(m, 'wsproxy_handshake_failures_total', { reason: 'UNSUPPORTED_VERSION' }), 1);
    assert.equal(sampleValue(m, 'wsproxy_handshake_failures_total', { reason: 'TLS_HANDSHAKE_FAILED' }), 1);
    assert.equal(m.get('wsproxy_handshake_failures_total')?.samples.length, 2);
    assert.equal(sampleValue(m, 'wsproxy_tls_handshake_failures_total'), 1);
    assert.equal(sampleValue(m, 'wsproxy_target_connect_seconds_count', { outcome: 'ok' }), 2);
    assert.equal(sampleValue(m, 'wsproxy_session_duration_seconds_count', { reason: 'CLIENT_CLOSED' }), 2);
    assert.equal(sampleValue(m, 'wsproxy_info', { version: 'test' }), 1);
    assert.equal(m.get('wsproxy_sessions_total')?.type, 'counter');
    assert.equal(m.get('wsproxy_target_connect_seconds')?.type, 'histogram');
    // Default process metrics are there too.
    assert.ok((sampleValue(m, 'process_cpu_user_seconds_total') ?? -1) >= 0);
    assert.ok((sampleValue(m, 'nodejs_heap_size_total_bytes') ?? 0) > 0);
  });

  test('a refused target connect is timed with its reason', async () => {
    const dead = await startProxy(await freePort(), {
      admin: { listen: { kind: 'tcp', host: '127.0.0.1', port: 0 }, token: undefined },
    });
    try {
      assert.equal(statusOf(await exchange(dead.port, upgradeRequest())), 502);
      const m = parsePrometheus((await adminRequest(dead.server.adminAddress() ?? '', 'GET', '/metrics')).body);
      assert.equal(sampleValue(m, 'wsproxy_target_connect_seconds_count', { outcome: 'TARGET_REFUSED' }), 1);
      assert.equal(sampleValue(m, 'wsproxy_handshake_failures_total', { reason: 'TARGET_REFUSED' }), 1);
    } finally {
      await dead.close();
    }
  });

  test('the bearer token is required on /metrics and /sessions, not on the probes', async () => {
    for (const path of ['/metrics', '/sessions']) {
      const none = await adminRequest(admin, 'GET', path);
      assert.equal(none.status, 401);
      assert.match(String(none.headers['www-authenticate']), /^Bearer /);
      assert.equal((await adminRequest(admin, 'GET', path, 'wrong-token')).status, 401);
      assert.equal((await adminRequest(admin, 'GET', path, `${ADMIN_TOKEN}x`)).status, 401);
      assert.equal((await adminRequest(admin, 'GET', path, ADMIN_TOKEN)).status, 200);
    }
    assert.equal((await adminRequest(admin, 'DELETE', '/sessions/1')).status, 401);
    const health = await adminRequest(admin, 'GET', '/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(JSON.parse(health.body), { status: 'ok' });
    const ready = await adminRequest(admin, 'GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.body), {
      ready: true,
      listening: true,
      draining: false,
      certificate: true,
      tokenSource: true,
    });
    assert.equal((await adminRequest(admin, 'GET', '/nope', ADMIN_TOKEN)).status, 404);
    assert.equal((await adminRequest(admin, 'POST', '/metrics', ADMIN_TOKEN)).status, 405);
    assert.ok(
      proxy.logs.every((l) => !l.includes(ADMIN_TOKEN)),
      'the admin token is never logged',
    );
  });
});

describe('admin listener: sessions and token sources', () => {
  const TOKEN = 'tok-secret-4711';
  let target: TestTarget;
  let proxy: TestProxy;
  let admin: string;
  before(async () => {
    target = await startEchoTarget();
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-admin-'));
    const file = join(dir, 'tokens');
    writeFileSync(file, `${TOKEN}: 127.0.0.1:${target.port}\n`);
    proxy = await startProxy(target.port, {
      targets: { kind: 'token', plugin: 'TokenFile', source: file, from: 'query' },
      admin: { listen: { kind: 'unix', path: join(dir, 'admin.sock') }, token: undefined },
    });
    admin = proxy.server.adminAddress() ?? '';
  });
  after(async () => {
    await proxy.close();
    await target.close();
  });

  test('listens on a unix socket with mode 0600', () => {
    assert.match(admin, /^unix:\//);
    assert.equal(statSync(admin.slice(5)).mode & 0o777, 0o600);
  });

  test('GET /sessions lists live sessions without secrets; DELETE closes one with 1008', async () => {
    const ws = await openWs(`ws://127.0.0.1:${proxy.port}/websockify?token=${TOKEN}`);
    await echoOnce(ws, Buffer.from('abc'));
    const list = await adminRequest(admin, 'GET', '/sessions');
    assert.equal(list.status, 200);
    assert.ok(!list.body.includes(TOKEN), 'no token in the session list');
    const rows = JSON.parse(list.body) as Record<string, unknown>[];
    assert.equal(rows.length, 1);
    const row = rows[0] ?? {};
    assert.deepEqual(Object.keys(row).sort(), [
      'bytes_from_client',
      'bytes_to_client',
      'client',
      'id',
      'scheme',
      'started',
      'target',
      'token_hash',
    ]);
    assert.equal(row['scheme'], 'ws');
    assert.equal(row['token_hash'], tokenHash(TOKEN));
    assert.equal(row['target'], `127.0.0.1:${target.port}`);
    assert.match(String(row['client']), /^127\.0\.0\.1:\d+$/);
    assert.equal(row['bytes_from_client'], 3);
    assert.equal(row['bytes_to_client'], 3);
    assert.ok(Date.now() - Date.parse(String(row['started'])) < 60_000);

    const closing = closed(ws);
    const del = await adminRequest(admin, 'DELETE', `/sessions/${String(row['id'])}`);
    assert.equal(del.status, 200);
    const c = await closing;
    assert.equal(c.code, 1008);
    await waitFor(
      () =>
        proxy.logs.some(
          (l) => l.includes('session closed') && l.includes('reason=ADMIN_CLOSED') && l.includes('close_code=1008'),
        ),
      5000,
      'close line',
    );
    assert.equal((await adminRequest(admin, 'DELETE', `/sessions/${String(row['id'])}`)).status, 404);
    assert.equal((await adminRequest(admin, 'DELETE', '/sessions/abc')).status, 404);
    const m = parsePrometheus((await adminRequest(admin, 'GET', '/metrics')).body);
    assert.equal(sampleValue(m, 'wsproxy_sessions_total', { reason: 'ADMIN_CLOSED' }), 1);
  });

  test('token lookups are counted by result', async () => {
    const refused = await exchange(proxy.port, upgradeRequest('/websockify?token=not-a-known-token'));
    assert.equal(statusOf(refused), 404);
    const ws = await openWs(`ws://127.0.0.1:${proxy.port}/websockify?token=${TOKEN}`);
    ws.close();
    await closed(ws);
    const m = parsePrometheus((await adminRequest(admin, 'GET', '/metrics')).body);
    assert.ok((sampleValue(m, 'wsproxy_token_lookups_total', { plugin: 'TokenFile', result: 'found' }) ?? 0) >= 1);
    assert.equal(sampleValue(m, 'wsproxy_token_lookups_total', { plugin: 'TokenFile', result: 'unknown' }), 1);
    assert.equal(sampleValue(m, 'wsproxy_handshake_failures_total', { reason: 'TOKEN_UNKNOWN' }), 1);
    assert.ok((sampleValue(m, 'wsproxy_token_lookup_seconds_count', { plugin: 'TokenFile' }) ?? 0) >= 2);
  });
});

describe('admin listener: readiness', () => {
  test('/readyz is 503 while the token source (Redis) is unreachable, /healthz stays 200', async () => {
    const target = await startEchoTarget();
    const proxy = await startProxy(target.port, {
      targets: { kind: 'token', plugin: 'TokenRedis', source: `127.0.0.1:${await freePort()}`, from: 'query' },
      admin: { listen: { kind: 'tcp', host: '127.0.0.1', port: 0 }, token: undefined },
    });
    try {
      const where = proxy.server.adminAddress() ?? '';
      const ready = await adminRequest(where, 'GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.equal((JSON.parse(ready.body) as { tokenSource: boolean }).tokenSource, false);
      assert.equal((await adminRequest(where, 'GET', '/healthz')).status, 200);
      const refused = await exchange(proxy.port, upgradeRequest('/websockify?token=x'));
      assert.equal(statusOf(refused), 503);
      const m = parsePrometheus((await adminRequest(where, 'GET', '/metrics')).body);
      assert.equal(sampleValue(m, 'wsproxy_token_lookup_errors_total', { plugin: 'TokenRedis' }), 1);
      assert.equal(sampleValue(m, 'wsproxy_token_lookups_total', { plugin: 'TokenRedis', result: 'error' }), 1);
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('/readyz is 503 when the configured certificate cannot be loaded', async () => {
    const target = await startEchoTarget();
    const proxy = await startProxy(target.port, {
      tls: { certFile: '/nonexistent/cert.pem', certGiven: true },
      admin: { listen: { kind: 'tcp', host: '127.0.0.1', port: 0 }, token: undefined },
    });
    try {
      const ready = await adminRequest(proxy.server.adminAddress() ?? '', 'GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.equal((JSON.parse(ready.body) as { certificate: boolean }).certificate, false);
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('drain(): /readyz turns 503 at once, a live session goes on, new connections are refused', async () => {
    const target = await startEchoTarget();
    const proxy = await startProxy(target.port, {
      admin: { listen: { kind: 'tcp', host: '127.0.0.1', port: 0 }, token: undefined },
    });
    const where = proxy.server.adminAddress() ?? '';
    try {
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/`);
      const draining = proxy.server.drain(60_000);
      const ready = await adminRequest(where, 'GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.equal((JSON.parse(ready.body) as { draining: boolean }).draining, true);
      await echoOnce(ws, Buffer.from('still relaying'));
      await assert.rejects(exchange(proxy.port, upgradeRequest()), /ECONNREFUSED/);
      ws.close(1000);
      await closed(ws);
      await draining; // ends as soon as the last session has
    } finally {
      await proxy.close();
      await target.close();
    }
  });
});
