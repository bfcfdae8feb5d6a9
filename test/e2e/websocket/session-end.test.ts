// Issue #12 finding 22: every session gets exactly one `session closed` line and one count in
// wsproxy_sessions_total, however it ends. Real clients (ws, raw sockets), real targets, the real admin listener.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { adminRequest } from '../../helpers/admin.js';
import { parsePrometheus } from '../../helpers/prom.js';
import { createServer } from '../../../src/server/index.js';
import {
  closed,
  openWs,
  proxyConfig,
  spawnDaemon,
  startEchoTarget,
  startProxy,
  startTarget,
  upgradeRequest,
  waitFor,
  type ProxyOverrides,
  type TestProxy,
} from '../../helpers/proxy.js';

const ADMIN = { admin: { listen: { kind: 'tcp' as const, host: '127.0.0.1', port: 0 }, token: undefined } };

/** The `session closed` lines (not "session closed by operator") in some log text, by connection id. */
function closedLines(logs: readonly string[]): string[] {
  return logs.filter((l) => / session closed conn=\d+/.test(l));
}

function linesFor(logs: readonly string[], conn: number): string[] {
  return closedLines(logs).filter((l) => l.includes(` conn=${conn} `));
}

/** wsproxy_sessions_total by reason, read from the real /metrics endpoint. */
async function sessionsTotal(proxy: TestProxy): Promise<Map<string, number>> {
  const res = await adminRequest(proxy.server.adminAddress() ?? '', 'GET', '/metrics');
  const family = parsePrometheus(res.body).get('wsproxy_sessions_total');
  return new Map((family?.samples ?? []).map((s) => [s.labels['reason'] ?? '', s.value]));
}

const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

/** A raw client that completes the upgrade and then ignores everything (never answers a ping or a close). */
async function deafClient(port: number, path = '/websockify'): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(upgradeRequest(path));
  let head = '';
  socket.setEncoding('latin1');
  await new Promise<void>((resolve, reject) => {
    const onData = (s: string): void => {
      head += s;
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (head.startsWith('HTTP/1.1 101')) resolve();
      else reject(new Error(`upgrade refused: ${head.split('\r\n')[0] ?? ''}`));
    };
    socket.on('data', onData);
  });
  socket.on('data', () => {}); // read and drop
  return socket;
}

/** The connection id of the only live session. */
function onlySessionId(proxy: TestProxy): number {
  const [s] = proxy.server.sessions();
  assert.ok(s, 'a live session');
  return s.id;
}

/** Runs one way of ending a session and checks: exactly one line, one count with `reason`, no other count. */
async function endsOnce(
  reason: string,
  overrides: ProxyOverrides,
  run: (proxy: TestProxy) => Promise<void>,
  targetPort?: number,
): Promise<void> {
  const echo = targetPort === undefined ? await startEchoTarget() : undefined;
  const proxy = await startProxy(targetPort ?? echo?.port ?? 0, { ...ADMIN, ...overrides });
  try {
    const before = await sessionsTotal(proxy);
    await run(proxy);
    await waitFor(() => closedLines(proxy.logs).length >= 1, 5_000, 'a session closed line');
    const after = await sessionsTotal(proxy);
    const lines = closedLines(proxy.logs);
    assert.equal(lines.length, 1, `exactly one session closed line:\n${lines.join('')}`);
    assert.match(lines[0] ?? '', new RegExp(`reason=${reason}\\b`));
    assert.equal(sum(after) - sum(before), 1, 'one count in wsproxy_sessions_total');
    assert.equal((after.get(reason) ?? 0) - (before.get(reason) ?? 0), 1, `counted as ${reason}`);
  } finally {
    await proxy.close();
    await echo?.close();
  }
}

describe('every session ends with exactly one line and one count', () => {
  test('client close', () =>
    endsOnce('CLIENT_CLOSED', {}, async (proxy) => {
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/`);
      ws.close(1000);
      await closed(ws);
    }));

  test('target close', async () => {
    const target = await startTarget((s) => setImmediate(() => s.end()));
    try {
      await endsOnce(
        'TARGET_CLOSED',
        {},
        async (proxy) => {
          const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/`);
          assert.equal((await closed(ws)).code, 1000);
        },
        target.port,
      );
    } finally {
      await target.close();
    }
  });

  test('heartbeat (idle) timeout: a client that never answers pings is cut', () =>
    endsOnce('HEARTBEAT_TIMEOUT', { limits: { heartbeatMs: 100 } }, async (proxy) => {
      const socket = await deafClient(proxy.port);
      await once(socket, 'close');
    }));

  test('admin close (DELETE /sessions/{id})', () =>
    endsOnce('ADMIN_CLOSED', {}, async (proxy) => {
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/`);
      const res = await adminRequest(proxy.server.adminAddress() ?? '', 'DELETE', `/sessions/${onlySessionId(proxy)}`);
      assert.equal(res.status, 200);
      assert.equal((await closed(ws)).code, 1008);
    }));

  test('message too big', () =>
    endsOnce('MESSAGE_TOO_BIG', { limits: { maxMessageBytes: 1024 } }, async (proxy) => {
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/`);
      ws.send(Buffer.alloc(4096));
      assert.equal((await closed(ws)).code, 1009);
    }));

  test('client socket reset', () =>
    endsOnce('CLIENT_GONE', {}, async (proxy) => {
      const socket = await deafClient(proxy.port);
      socket.resetAndDestroy();
    }));

  test('target connection fails mid-session (reset)', async () => {
    const target = await startTarget((s) => setTimeout(() => s.resetAndDestroy(), 50));
    try {
      await endsOnce(
        'TARGET_ERROR',
        {},
        async (proxy) => {
          const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/`);
          assert.equal((await closed(ws)).code, 1011);
        },
        target.port,
      );
    } finally {
      await target.close();
    }
  });

  test('token revocation by a reload (1008)', async () => {
    const target = await startEchoTarget();
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-end-'));
    const file = join(dir, 'tokens');
    writeFileSync(file, `drop: 127.0.0.1:${target.port}\n`);
    try {
      await endsOnce(
        'TOKEN_REVOKED',
        { targets: { kind: 'token', plugin: 'TokenFile', source: file, from: 'query' } },
        async (proxy) => {
          const ws = await openWs(`ws://127.0.0.1:${proxy.port}/?token=drop`);
          writeFileSync(file, 'other: 127.0.0.1:1\n');
          const future = new Date(Date.now() + 5_000);
          utimesSync(file, future, future);
          assert.equal((await proxy.server.reload('test')).ok, true);
          assert.equal((await closed(ws)).code, 1008);
        },
        1,
      );
    } finally {
      await target.close();
    }
  });
});

describe('sessions cut by shutdown are logged before close() returns', () => {
  test('shutdown with a cooperative client: one SERVER_SHUTDOWN line', async () => {
    const target = await startEchoTarget();
    const proxy = await startProxy(target.port);
    try {
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/`);
      const code = closed(ws);
      await proxy.close();
      assert.equal((await code).code, 1001);
      const lines = closedLines(proxy.logs);
      assert.equal(lines.length, 1, lines.join(''));
      assert.match(lines[0] ?? '', /reason=SERVER_SHUTDOWN/);
    } finally {
      await target.close();
    }
  });

  test('--shutdown-timeout with a client that never answers the close: one line, logged before close() returns', async () => {
    const target = await startEchoTarget();
    const proxy = await startProxy(target.port, { limits: { shutdownTimeoutMs: 200 } });
    try {
      const deaf = await deafClient(proxy.port);
      const id = onlySessionId(proxy);
      await proxy.close();
      assert.equal(linesFor(proxy.logs, id).length, 1, proxy.logs.join(''));
      assert.match(linesFor(proxy.logs, id)[0] ?? '', /reason=SERVER_SHUTDOWN/);
      deaf.destroy();
    } finally {
      await target.close();
    }
  });

  test('--shutdown-timeout with a deaf client: the end is counted once before close() returns (the hook told with the metric)', async () => {
    const target = await startEchoTarget();
    const ended: string[] = [];
    const config = await proxyConfig(target.port, {
      log: { level: 'info', format: 'text' },
      limits: { shutdownTimeoutMs: 200 },
    });
    // onSessionClosed is called right after wsproxy_sessions_total is counted, in the same step (server/index.ts).
    const server = createServer(config, { onSessionClosed: (info) => ended.push(info.reason) });
    await server.listen();
    try {
      const deaf = await deafClient(server.addresses()[0]?.port ?? 0);
      await server.close();
      assert.deepEqual(ended, ['SERVER_SHUTDOWN']);
      deaf.destroy();
    } finally {
      await target.close();
    }
  });

  test('real daemon, SIGINT, --shutdown-timeout 0.2, a deaf client: the session closed line is written before exit', async () => {
    const target = await startEchoTarget();
    const d = await spawnDaemon(['--shutdown-timeout', '0.2', '127.0.0.1:0', `127.0.0.1:${target.port}`]);
    try {
      const deaf = await deafClient(d.port);
      assert.equal(await d.stop('SIGINT'), 0);
      const lines = d
        .stderr()
        .split('\n')
        .filter((l) => / session closed /.test(l));
      assert.equal(lines.length, 1, d.stderr());
      assert.match(lines[0] ?? '', /reason=SERVER_SHUTDOWN/);
      deaf.destroy();
    } finally {
      await d.stop('SIGKILL');
      await target.close();
    }
  });
});
