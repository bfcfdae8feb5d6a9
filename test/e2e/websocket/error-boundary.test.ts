// The per-connection error boundary (issue #12): an exception while serving one connection ends that connection —
// 500 before the upgrade, close 1011 after it, reason INTERNAL_ERROR, one error line — and never the process. Faults
// are injected through the real plugin interfaces (--token-plugin/--auth-plugin modules written here) and the
// library's own hooks (trafficSink, onSessionOpen, onSessionClosed); after each, a fresh session must work.
//
// What a plugin throws in the usual way (an Error, a rejection) keeps its documented answer: 503 TOKEN_SOURCE_DOWN
// from a token plugin, 403 from an auth plugin (fail closed). The boundary is what catches the rest: a thrown value
// that breaks wsproxy's own handling of the failure, or an answer whose fields throw when read.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { createServer, type ServerDeps, type WsProxyServer } from '../../../src/server/index.js';
import {
  captureLogger,
  closed,
  exchange,
  openWs,
  proxyConfig,
  spawnDaemon,
  startEchoTarget,
  statusOf,
  upgradeRequest,
  waitFor,
  type Daemon,
} from '../../helpers/proxy.js';

// A value whose conversion to text throws (and throws null): what a careless or hostile plugin can throw.
const PLUGIN_PRELUDE = `const unprintable = { toString() { throw null; } };\n`;

const RESOLVER = `${PLUGIN_PRELUDE}
const calls = new Map();
export default ({ source }) => {
  const [host, port] = source.split(':');
  const found = { kind: 'found', target: { host, port: Number(port) } };
  return {
    name: 'faulty-resolver',
    resolve(token) {
      const n = (calls.get(token) ?? 0) + 1;
      calls.set(token, n);
      if (token === 'throw-sync') throw new Error('sync failure');
      if (token === 'reject') return Promise.reject(new Error('async failure'));
      if (token === 'throw-unprintable') throw unprintable;
      if (token.startsWith('getter-')) return { get kind() { throw new Error('cannot read the answer for ' + token); } };
      // Re-checked after the upgrade (--revalidate-interval): the first call admits, later ones fail or revoke.
      if (token === 'later-unprintable' && n > 1) return Promise.reject(unprintable);
      if (token === 'later-revoked' && n > 1) return { kind: 'unknown' };
      return found;
    },
  };
};
`;

const AUTH = `${PLUGIN_PRELUDE}
export default {
  name: 'faulty-auth',
  check(ctx) {
    const how = (ctx.authorization ?? '').replace(/^Bearer /, '');
    if (how === 'throw-sync') throw new Error('auth sync failure');
    if (how === 'reject') return Promise.reject(new Error('auth async failure'));
    if (how === 'throw-unprintable') throw unprintable;
    return { kind: 'allow' };
  },
};
`;

/** The plugin files in a fresh temp dir. */
function writePlugins(): { resolver: string; auth: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wsproxy-boundary-'));
  const resolver = join(dir, 'resolver.mjs');
  const auth = join(dir, 'auth.mjs');
  writeFileSync(resolver, RESOLVER);
  writeFileSync(auth, AUTH);
  return { resolver, auth };
}

const errorLines = (text: string): string[] =>
  text.split('\n').filter((l) => /internal error; connection closed/.test(l));

async function upgradeStatus(port: number, path: string, auth = 'ok'): Promise<string> {
  return exchange(port, upgradeRequest(path, { Authorization: `Bearer ${auth}` }));
}

/** A normal session through the daemon still works (and so the process is alive and serving). */
async function stillServes(d: Daemon): Promise<void> {
  assert.equal(d.proc.exitCode, null, 'the daemon is alive');
  const ws = await openWs(`ws://127.0.0.1:${d.port}/websockify?token=good`, {
    headers: { Authorization: 'Bearer ok' },
  });
  const reply = once(ws, 'message');
  ws.send(Buffer.from('fresh'));
  const [data] = (await reply) as [Buffer];
  assert.equal(data.toString(), 'fresh');
  ws.close();
  await closed(ws);
}

describe('error boundary before the upgrade (real daemon, plugin modules)', () => {
  test('token lookup and auth check: documented answers for ordinary throws, 500 INTERNAL_ERROR for what escapes', async () => {
    const echo = await startEchoTarget();
    const plugins = writePlugins();
    const d = await spawnDaemon([
      '--token-plugin',
      plugins.resolver,
      '--token-source',
      `127.0.0.1:${echo.port}`,
      '--auth-plugin',
      plugins.auth,
      '--web-auth',
      '127.0.0.1:0',
    ]);
    try {
      await stillServes(d);
      // Token lookup: the plugin's own failures keep their documented answer (source down).
      for (const token of ['throw-sync', 'reject']) {
        assert.equal(statusOf(await upgradeStatus(d.port, `/websockify?token=${token}`)), 503, token);
        await stillServes(d);
      }
      // Token lookup: what escapes the plugin wrapper reaches the boundary.
      let expected = 0;
      for (const token of ['throw-unprintable', 'getter-s3cr3t-t0ken']) {
        const answer = await upgradeStatus(d.port, `/websockify?token=${token}`);
        assert.equal(statusOf(answer), 500, `${token}: ${answer}`);
        assert.match(answer, /X-Wsproxy-Reason: INTERNAL_ERROR/);
        expected++;
        await waitFor(() => errorLines(d.stderr()).length === expected, 3_000, `the error line for ${token}`);
        await stillServes(d);
      }
      // Auth check before the upgrade: ordinary failures deny (fail closed), the unprintable one reaches the boundary.
      for (const how of ['throw-sync', 'reject']) {
        assert.equal(statusOf(await upgradeStatus(d.port, '/websockify?token=good', how)), 403, how);
      }
      const denied = await upgradeStatus(d.port, '/websockify?token=good', 'throw-unprintable');
      assert.equal(statusOf(denied), 500, denied);
      expected++;
      await waitFor(() => errorLines(d.stderr()).length === expected, 3_000, 'the error line for the auth plugin');
      await stillServes(d);
      // The same auth plugin guarding a page (--web-auth): the request stage's boundary.
      const page = await exchange(
        d.port,
        'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer throw-unprintable\r\n\r\n',
      );
      assert.equal(statusOf(page), 500, page);
      assert.match(page, /X-Wsproxy-Reason: INTERNAL_ERROR/);
      expected++;
      await waitFor(() => errorLines(d.stderr()).length === expected, 3_000, 'the error line for the page');
      await stillServes(d);

      const lines = errorLines(d.stderr());
      assert.equal(lines.length, 4, d.stderr());
      for (const line of lines)
        assert.match(line, /^\S+ ERROR internal error; connection closed .*reason=INTERNAL_ERROR .*status=500/);
      assert.match(lines[1] ?? '', /error="Error: cannot read the answer for \*\*\*"/);
      assert.doesNotMatch(d.stderr(), /s3cr3t/, 'the token stays out of the log');
      assert.doesNotMatch(d.stderr(), /stack=/, 'the stack is logged at debug level only');
    } finally {
      await d.stop();
      await echo.close();
    }
  });
});

describe('error boundary after the upgrade', () => {
  test('a token re-check that fails for one session (plugin rejects with an unprintable value) still revokes the others', async () => {
    const echo = await startEchoTarget();
    const plugins = writePlugins();
    const d = await spawnDaemon([
      '--token-plugin',
      plugins.resolver,
      '--token-source',
      `127.0.0.1:${echo.port}`,
      '--revalidate-interval',
      '0.2',
      '127.0.0.1:0',
    ]);
    try {
      // Re-checked in the order they opened: the failing one first.
      const failing = await openWs(`ws://127.0.0.1:${d.port}/websockify?token=later-unprintable`);
      const revoked = await openWs(`ws://127.0.0.1:${d.port}/websockify?token=later-revoked`);
      const bounded = new Promise<string>((resolve) =>
        setTimeout(() => resolve('still open after 5 s'), 5_000).unref(),
      );
      assert.equal(await Promise.race([closed(revoked).then((c) => String(c.code)), bounded]), '1008');
      // A source that fails revokes nothing: the failing session goes on.
      failing.send(Buffer.from('still'));
      const [data] = (await once(failing, 'message')) as [Buffer];
      assert.equal(data.toString(), 'still');
      failing.close();
      await closed(failing);
      assert.equal(d.proc.exitCode, null);
    } finally {
      await d.stop();
      await echo.close();
    }
  });

  /** An in-process proxy built with the library's hooks (as an embedder would), logging to `logs`. */
  async function embedded(
    targetPort: number,
    hooks: Partial<ServerDeps>,
  ): Promise<{ server: WsProxyServer; port: number; logs: string[] }> {
    const config = await proxyConfig(targetPort, { traffic: true });
    const { logger, logs } = captureLogger();
    const server = createServer(config, { logger, version: 'test', ...hooks });
    await server.listen();
    return { server, port: server.addresses()[0]?.port ?? 0, logs };
  }

  async function echoes(port: number): Promise<void> {
    const ws = await openWs(`ws://127.0.0.1:${port}/`);
    const reply = once(ws, 'message');
    ws.send(Buffer.from('fresh'));
    assert.equal(((await reply) as [Buffer])[0].toString(), 'fresh');
    ws.close();
    await closed(ws);
  }

  const sessionLines = (logs: readonly string[]): string[] => logs.filter((l) => / session closed conn=/.test(l));

  test('a tap (trafficSink) that throws on a message: 1011 INTERNAL_ERROR, one error line, one session closed line', async () => {
    const echo = await startEchoTarget();
    let armed = false;
    const proxy = await embedded(echo.port, {
      trafficSink: () => {
        if (armed) throw new Error('the traffic sink broke');
      },
    });
    try {
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/`);
      armed = true;
      ws.send(Buffer.from('boom'));
      const { code, reason } = await closed(ws);
      assert.equal(code, 1011);
      assert.equal(reason, 'Internal error');
      armed = false;
      await waitFor(() => sessionLines(proxy.logs).length === 1, 3_000, 'the session closed line');
      assert.match(sessionLines(proxy.logs)[0] ?? '', /reason=INTERNAL_ERROR close_code=1011/);
      const errors = proxy.logs.filter((l) => /ERROR internal error; connection closed/.test(l));
      assert.equal(errors.length, 1, proxy.logs.join(''));
      assert.match(errors[0] ?? '', /where=session .*error="Error: the traffic sink broke"/);
      assert.ok(
        proxy.logs.some((l) => /DEBUG internal error stack .*the traffic sink broke/.test(l)),
        'the stack at debug level',
      );
      await echoes(proxy.port);
    } finally {
      await proxy.server.close();
      await echo.close();
    }
  });

  test("the embedder's onSessionOpen throws: that session closes with 1011 and ends once; the next one works", async () => {
    const echo = await startEchoTarget();
    let armed = true;
    const proxy = await embedded(echo.port, {
      onSessionOpen: () => {
        if (armed) throw new Error('onSessionOpen broke');
      },
    });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/`);
      ws.on('error', () => {});
      assert.equal((await closed(ws)).code, 1011);
      armed = false;
      await waitFor(() => sessionLines(proxy.logs).length === 1, 3_000, 'the session closed line');
      assert.match(sessionLines(proxy.logs)[0] ?? '', /reason=INTERNAL_ERROR/);
      assert.equal(proxy.server.sessions().length, 0);
      await echoes(proxy.port);
    } finally {
      await proxy.server.close();
      await echo.close();
    }
  });

  test("the embedder's onSessionClosed throws: logged once, the session still has its closing line, the process goes on", async () => {
    const echo = await startEchoTarget();
    let throws = 0;
    const proxy = await embedded(echo.port, {
      onSessionClosed: () => {
        throws++;
        throw new Error('onSessionClosed broke');
      },
    });
    try {
      await echoes(proxy.port);
      await waitFor(() => sessionLines(proxy.logs).length === 1, 3_000, 'the session closed line');
      await waitFor(
        () => proxy.logs.some((l) => /ERROR internal error; connection closed .*onSessionClosed broke/.test(l)),
        3_000,
        'the error line',
      );
      assert.match(sessionLines(proxy.logs)[0] ?? '', /reason=CLIENT_CLOSED/);
      await echoes(proxy.port);
      await waitFor(() => throws === 2 && sessionLines(proxy.logs).length === 2, 3_000, 'the second session to end');
      assert.equal(proxy.server.sessions().length, 0);
    } finally {
      await proxy.server.close();
      await echo.close();
    }
  });
});
