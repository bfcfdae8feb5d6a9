// The upgrade handler on its own: a plain node:http server on 127.0.0.1 hands it each upgrade request, with real
// sockets to a real target. Each refusal is one answer (status + X-Wsproxy-Reason) and one log line.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocketServer } from 'ws';
import type { ConnectionContext } from '../../../src/context.js';
import { fixedTarget } from '../../../src/targets/fixed.js';
import type { TargetResolver } from '../../../src/targets/types.js';
import { createUpgradeHandler } from '../../../src/websocket/upgrade.js';
import type { SessionInfo, UpgradeDeps, UpgradeRuntime } from '../../../src/websocket/handshake.js';
import { SingleSession } from '../../../src/websocket/single-session.js';
import {
  captureLogger,
  exchange,
  freePort,
  openWs,
  proxyConfig,
  startEchoTarget,
  statusOf,
  upgradeRequest,
  type ProxyOverrides,
  type TestTarget,
} from '../../helpers/proxy.js';

/** An http server whose upgrades go to one handler; `logs` holds the handler's lines. */
async function harness(
  targetPort: number,
  deps: Partial<UpgradeDeps> = {},
  overrides: ProxyOverrides = {},
  runtimeParts: Partial<UpgradeRuntime> = {},
) {
  const config = await proxyConfig(targetPort, overrides);
  const { logger, logs } = captureLogger();
  const chosenProtocols = new WeakMap<IncomingMessage, string>();
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    handleProtocols: (_o, req) => chosenProtocols.get(req) ?? false,
  });
  const sessions: SessionInfo[] = [];
  const handle = createUpgradeHandler({
    chosenProtocols,
    isShuttingDown: () => false,
    onSession: (s) => sessions.push(s),
    onSessionEnd: () => {},
    ...deps,
  });
  const runtime: UpgradeRuntime = {
    config,
    resolver: fixedTarget({ kind: 'tcp', host: '127.0.0.1', port: targetPort }),
    wss,
    authenticator: undefined,
    recorder: undefined,
    trafficSink: undefined,
    policy: undefined,
    targetTls: undefined,
    ...runtimeParts,
  };
  let id = 0;
  const http = createServer();
  http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const conn: ConnectionContext = {
      id: ++id,
      remoteAddress: '127.0.0.1',
      remotePort: socket.remotePort ?? 0,
      tls: false,
      log: logger,
      handshakeDone: () => {},
    };
    void handle(req, socket, head, conn, runtime);
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const port = (http.address() as AddressInfo).port;
  return { port, logs, sessions, close: () => new Promise<void>((r) => http.close(() => r())) };
}

/** Sends one upgrade request; checks the status, the reason header and that exactly one line names the reason. */
async function refused(
  h: { port: number; logs: string[] },
  request: string,
  status: number,
  reason: string,
): Promise<string> {
  const before = h.logs.length;
  const answer = await exchange(h.port, request);
  assert.equal(statusOf(answer), status, answer.slice(0, 80));
  assert.match(answer, new RegExp(`\\r\\nX-Wsproxy-Reason: ${reason}\\r\\n`));
  const lines = h.logs.slice(before).filter((l) => l.includes(`reason=${reason}`));
  assert.equal(lines.length, 1, `one log line for ${reason}: ${h.logs.slice(before).join('')}`);
  return answer;
}

describe('upgrade handler', () => {
  let target: TestTarget;
  let h: Awaited<ReturnType<typeof harness>>;
  before(async () => {
    target = await startEchoTarget();
    h = await harness(target.port);
  });
  after(async () => {
    await h.close();
    await target.close();
  });

  test('a valid handshake is answered 101 and relays to the target', async () => {
    const ws = await openWs(`ws://127.0.0.1:${h.port}/websockify`);
    ws.send(Buffer.from('ping'));
    const [data] = (await once(ws, 'message')) as [Buffer];
    assert.equal(data.toString(), 'ping');
    assert.equal(h.sessions.length, 1);
    ws.terminate();
  });

  test('handshake syntax: method, Host, Upgrade, key, version', async () => {
    const post = upgradeRequest().replace(/^GET/, 'POST');
    assert.match(await refused(h, post, 405, 'METHOD_NOT_ALLOWED'), /\r\nAllow: GET\r\n/);
    await refused(h, upgradeRequest('/', { 'Sec-WebSocket-Key': 'short' }), 400, 'BAD_HANDSHAKE');
    await refused(h, upgradeRequest('/', { Upgrade: 'h2c' }), 400, 'BAD_HANDSHAKE');
    const noHost = upgradeRequest().replace(/\r\nHost: [^\r]*/, '');
    await refused(h, noHost, 400, 'BAD_HANDSHAKE');
    assert.match(
      await refused(h, upgradeRequest('/', { 'Sec-WebSocket-Version': '12' }), 426, 'UNSUPPORTED_VERSION'),
      /\r\nSec-WebSocket-Version: 13\r\n/,
    );
  });

  test('an unsupported subprotocol is 400', async () => {
    await refused(
      h,
      upgradeRequest('/', { 'Sec-WebSocket-Protocol': 'chat, superchat' }),
      400,
      'SUBPROTOCOL_UNSUPPORTED',
    );
  });

  test('a cross-site Origin is 403', async () => {
    await refused(h, upgradeRequest('/', { Origin: 'https://evil.example' }), 403, 'ORIGIN_FORBIDDEN');
  });

  test('a target that refuses the connection is 502, before any 101', async () => {
    const closedPort = await freePort();
    const down = await harness(closedPort);
    try {
      await refused(down, upgradeRequest(), 502, 'TARGET_REFUSED');
    } finally {
      await down.close();
    }
  });
});

describe('upgrade handler: server state and tokens', () => {
  let target: TestTarget;
  before(async () => {
    target = await startEchoTarget();
  });
  after(async () => {
    await target.close();
  });

  test('shutting down is 503 SHUTTING_DOWN', async () => {
    const h = await harness(target.port, { isShuttingDown: () => true });
    await refused(h, upgradeRequest(), 503, 'SHUTTING_DOWN');
    await h.close();
  });

  test('--run-once with the session taken is 503 RUN_ONCE_BUSY', async () => {
    const single = new SingleSession();
    assert.equal(single.claim(), true);
    const h = await harness(target.port, { singleSession: single });
    await refused(h, upgradeRequest(), 503, 'RUN_ONCE_BUSY');
    await h.close();
  });

  test('a token source: no token is 401 TOKEN_MISSING, an unknown one 404 TOKEN_UNKNOWN, a known one relays', async () => {
    const tokens: TargetResolver = {
      name: 'test',
      usesToken: true,
      resolve: (token) =>
        Promise.resolve(
          token === 'good'
            ? { kind: 'found', target: { kind: 'tcp', host: '127.0.0.1', port: target.port } }
            : { kind: 'unknown' },
        ),
    };
    const h = await harness(target.port, {}, {}, { resolver: tokens });
    try {
      await refused(h, upgradeRequest('/websockify'), 401, 'TOKEN_MISSING');
      const answer = await refused(h, upgradeRequest('/websockify?token=bad-s3cret'), 404, 'TOKEN_UNKNOWN');
      assert.ok(
        !answer.includes('bad-s3cret') && !h.logs.join('').includes('bad-s3cret'),
        'the token is never echoed or logged',
      );
      const ws = await openWs(`ws://127.0.0.1:${h.port}/websockify?token=good`);
      ws.terminate();
    } finally {
      await h.close();
    }
  });
});
