// Operations with the real daemon: the admin listener from the command line, SIGTERM drain (sessions go on, /readyz
// is 503, new connections are refused, 1001 at the deadline), and admin start-up errors.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type WebSocket from 'ws';
import { adminRequest } from '../../helpers/admin.js';
import { parsePrometheus, sampleValue } from '../../helpers/prom.js';
import {
  runCli,
  closed,
  exchange,
  openWs,
  spawnDaemon,
  startEchoTarget,
  testCertificate,
  upgradeRequest,
  waitFor,
  type Daemon,
} from '../../helpers/proxy.js';

const ADMIN_TOKEN = 'drain-admin-token-5f2c9e';

function tokenFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'wsproxy-ops-')), 'admin-token');
  writeFileSync(file, `${ADMIN_TOKEN}\n`, { mode: 0o600 });
  return file;
}

async function adminOf(d: Daemon): Promise<string> {
  await waitFor(() => /admin listener admin=\S+/.test(d.stderr()), 5000, 'admin listener line');
  return /admin listener admin=(\S+)/.exec(d.stderr())?.[1] ?? '';
}

async function echo(ws: WebSocket, text: string): Promise<string> {
  const got = once(ws, 'message') as Promise<[Buffer]>;
  ws.send(Buffer.from(text));
  return (await got)[0].toString();
}

describe('SIGTERM drains', () => {
  test('a live session keeps relaying, /readyz is 503, new connections are refused, then 1001 at --drain-timeout', async () => {
    const target = await startEchoTarget();
    const d = await spawnDaemon([
      '127.0.0.1:0',
      `127.0.0.1:${target.port}`,
      '--cert',
      (await testCertificate()).file,
      '--admin-listen',
      '127.0.0.1:0',
      '--admin-token-file',
      tokenFile(),
      '--drain-timeout',
      '1.5',
    ]);
    try {
      const admin = await adminOf(d);
      assert.equal((await adminRequest(admin, 'GET', '/readyz')).status, 200);
      const ws = await openWs(`ws://127.0.0.1:${d.port}/websockify`);
      assert.equal(await echo(ws, 'before'), 'before');
      const closing = closed(ws);
      const exited = once(d.proc, 'exit') as Promise<[number | null]>;
      d.proc.kill('SIGTERM');
      await waitFor(() => d.stderr().includes('draining'), 5000, 'draining line');

      const ready = await adminRequest(admin, 'GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.equal((JSON.parse(ready.body) as { draining: boolean }).draining, true);
      assert.equal(await echo(ws, 'during the drain'), 'during the drain');
      await assert.rejects(exchange(d.port, upgradeRequest()), /ECONNREFUSED/);
      const rows = JSON.parse((await adminRequest(admin, 'GET', '/sessions', ADMIN_TOKEN)).body) as unknown[];
      assert.equal(rows.length, 1);

      const c = await closing;
      assert.equal(c.code, 1001);
      const [code] = await exited;
      assert.equal(code, 0);
      assert.match(d.stderr(), /session closed .*reason=SERVER_SHUTDOWN/);
      assert.ok(!d.stderr().includes(ADMIN_TOKEN), 'the admin token is never logged');
    } finally {
      await d.stop('SIGKILL');
      await target.close();
    }
  });

  test('the drain ends as soon as the last session does', async () => {
    const target = await startEchoTarget();
    const d = await spawnDaemon([
      '127.0.0.1:0',
      `127.0.0.1:${target.port}`,
      '--admin-listen',
      '0',
      '--drain-timeout',
      '600',
    ]);
    try {
      const admin = await adminOf(d);
      const ws = await openWs(`ws://127.0.0.1:${d.port}/websockify`);
      const exited = once(d.proc, 'exit') as Promise<[number | null]>;
      d.proc.kill('SIGTERM');
      await waitFor(() => d.stderr().includes('draining'), 5000, 'draining line');
      assert.equal((await adminRequest(admin, 'GET', '/readyz')).status, 503);
      assert.equal(await echo(ws, 'x'), 'x');
      ws.close(1000);
      assert.equal((await closed(ws)).code, 1000);
      const [code] = await exited;
      assert.equal(code, 0);
      assert.match(d.stderr(), /session closed .*reason=CLIENT_CLOSED/);
    } finally {
      await d.stop('SIGKILL');
      await target.close();
    }
  });
});

describe('admin listener from the command line', () => {
  test('metrics with the bearer token from --admin-token-file; 401 without', async () => {
    const target = await startEchoTarget();
    const d = await spawnDaemon([
      '127.0.0.1:0',
      `127.0.0.1:${target.port}`,
      '--admin-listen',
      '127.0.0.1:0',
      '--admin-token-file',
      tokenFile(),
    ]);
    try {
      const admin = await adminOf(d);
      assert.equal((await adminRequest(admin, 'GET', '/metrics')).status, 401);
      const ws = await openWs(`ws://127.0.0.1:${d.port}/websockify`);
      assert.equal(await echo(ws, 'twelve bytes'), 'twelve bytes');
      ws.close();
      await closed(ws);
      await waitFor(() => d.stderr().includes('session closed'), 5000, 'close line');
      const res = await adminRequest(admin, 'GET', '/metrics', ADMIN_TOKEN);
      assert.equal(res.status, 200);
      const m = parsePrometheus(res.body);
      assert.equal(sampleValue(m, 'wsproxy_bytes_total', { direction: 'from_client' }), 12);
      assert.equal(sampleValue(m, 'wsproxy_bytes_total', { direction: 'to_client' }), 12);
      assert.equal(sampleValue(m, 'wsproxy_sessions_total', { reason: 'CLIENT_CLOSED' }), 1);
      assert.ok((sampleValue(m, 'process_resident_memory_bytes') ?? 0) > 0);
    } finally {
      assert.equal(await d.stop('SIGINT'), 0);
      await target.close();
    }
  });

  test('an admin address in use: one line naming --admin-listen, exit 1', async () => {
    const busy = createServer();
    busy.on('error', () => {});
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const port = (busy.address() as AddressInfo).port;
    try {
      const r = runCli(['127.0.0.1:0', '127.0.0.1:9', '--admin-listen', `127.0.0.1:${port}`], { keepStateHome: true });
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(
        r.stderr,
        new RegExp(`^wsproxy: --admin-listen: cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use`),
      );
    } finally {
      busy.close();
    }
  });

  test('--admin-token-file without --admin-listen is a usage error (exit 2)', () => {
    const r = runCli(['127.0.0.1:0', '127.0.0.1:9', '--admin-token-file', tokenFile()]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^wsproxy: --admin-token-file needs --admin-listen/);
    assert.ok(!r.stderr.includes(ADMIN_TOKEN));
  });
});
