// Issue #12 finding 21: --run-once serves exactly one session. Once it opens, the listener is closed and further
// upgrades (on connections that were already open) get 503 RUN_ONCE_BUSY; the session goes on until it closes
// normally, and then the process exits 0. Real daemon, real ws clients, raw sockets.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import {
  closed,
  freePort,
  openWs,
  spawnDaemon,
  startEchoTarget,
  statusOf,
  upgradeRequest,
} from '../../helpers/proxy.js';

/** Opens a plain keep-alive HTTP connection and reads one answer to a GET, leaving the socket open. */
async function keepAliveConnection(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write('GET /nothing-here HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await readHead(socket);
  return socket;
}

/** Reads until the end of one response head (the 404 page's body is small and comes with it or is ignored). */
async function readHead(socket: Socket): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    const onData = (c: Buffer): void => {
      text += c.toString('latin1');
      if (!text.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      resolve(text);
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed before an answer: ${text}`)));
  });
}

/** Resolves the echo of `data` on an open WebSocket. */
async function echo(ws: WebSocket, data: string): Promise<string> {
  ws.send(Buffer.from(data));
  const [d] = (await once(ws, 'message')) as [Buffer];
  return d.toString();
}

describe('--run-once (real daemon)', () => {
  test('a second, overlapping session is refused; the first goes on until it closes; then exit 0', async () => {
    const target = await startEchoTarget();
    const d = await spawnDaemon(['--run-once', '127.0.0.1:0', `127.0.0.1:${target.port}`]);
    try {
      const exited = once(d.proc, 'exit');
      // A connection opened before the first session: the listener closing does not touch it.
      const early = await keepAliveConnection(d.port);
      const first = await openWs(`ws://127.0.0.1:${d.port}/`);
      assert.equal(await echo(first, 'one'), 'one');

      // A fresh client: its TCP connect fails (the listener is closed) or its upgrade is refused.
      const second = new WebSocket(`ws://127.0.0.1:${d.port}/`);
      const outcome = await new Promise<string>((resolve) => {
        second.once('open', () => resolve('open'));
        second.once('unexpected-response', (_req, res) => resolve(`status ${res.statusCode ?? 0}`));
        second.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      });
      second.on('error', () => {}); // terminate() on a refused client reports an error too
      second.terminate();
      assert.ok(outcome === 'ECONNREFUSED' || outcome === 'status 503', `second client: ${outcome}`);

      // An upgrade on the connection that was already open: 503 with the reason code.
      early.write(upgradeRequest());
      const head = await readHead(early);
      assert.equal(statusOf(head), 503, head);
      assert.match(head, /X-Wsproxy-Reason: RUN_ONCE_BUSY/i);
      early.destroy();

      // The first session is untouched by all this, and ends normally.
      assert.equal(await echo(first, 'still here'), 'still here');
      first.close(1000);
      assert.equal((await closed(first)).code, 1000);
      const [code] = (await exited) as [number];
      assert.equal(code, 0, d.stderr());
      assert.match(d.stderr(), /reason=run-once/);
      assert.match(d.stderr(), /reason=RUN_ONCE_BUSY/);
      assert.equal(
        d
          .stderr()
          .split('\n')
          .filter((l) => / session closed /.test(l)).length,
        1,
        d.stderr(),
      );
    } finally {
      await d.stop('SIGKILL');
      await target.close();
    }
  });

  test('a first handshake refused after its claim (target down: 502) gives the one session back', async () => {
    const target = await startEchoTarget();
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-once-'));
    const tokens = join(dir, 'tokens');
    writeFileSync(tokens, `down: 127.0.0.1:${await freePort()}\nup: 127.0.0.1:${target.port}\n`);
    const d = await spawnDaemon(['--run-once', '--token-plugin', 'TokenFile', '--token-source', tokens, '127.0.0.1:0']);
    try {
      const exited = once(d.proc, 'exit');
      const bad = new WebSocket(`ws://127.0.0.1:${d.port}/?token=down`);
      bad.on('error', () => {});
      const [, res] = (await once(bad, 'unexpected-response')) as [unknown, { statusCode: number }];
      assert.equal(res.statusCode, 502);
      bad.terminate();
      const ws = await openWs(`ws://127.0.0.1:${d.port}/?token=up`);
      assert.equal(await echo(ws, 'x'), 'x');
      ws.close(1000);
      const [code] = (await exited) as [number];
      assert.equal(code, 0, d.stderr());
    } finally {
      await d.stop('SIGKILL');
      await target.close();
    }
  });
});
