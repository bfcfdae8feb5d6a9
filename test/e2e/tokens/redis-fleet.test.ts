// A fleet sharing Redis (issue 7): two real daemons on one real redis-server share tokens, the per-token session
// cap and revocation, and survive a Redis restart.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import type WebSocket from 'ws';
import { missingKeyspaceFlags } from '../../../src/targets/redis-fleet.js';
import {
  closed,
  exchange,
  openWs,
  redisCli,
  spawnDaemon,
  startEchoTarget,
  startProxy,
  startRedis,
  statusOf,
  upgradeRequest,
  waitFor,
  type Daemon,
} from '../../helpers/proxy.js';

/** Status of an upgrade for `token` on `port`, and the reason header. */
async function tryUpgrade(port: number, token: string): Promise<{ status: number; reason: string | undefined }> {
  const response = await exchange(port, upgradeRequest(`/?token=${token}`));
  return { status: statusOf(response), reason: /X-Wsproxy-Reason: (\S+)/i.exec(response)?.[1] };
}

/** Connections in pattern-subscriber mode (PUBSUB NUMPAT counts distinct patterns, not subscribers). */
function subscribers(port: number): number {
  return redisCli(port, undefined, 'CLIENT', 'LIST')
    .split('\n')
    .filter((l) => / psub=1 /.test(l)).length;
}

async function echoes(ws: WebSocket, text: string): Promise<void> {
  ws.send(Buffer.from(text));
  const [d] = (await once(ws, 'message')) as [Buffer];
  assert.equal(d.toString(), text);
}

describe('keyspace flags', () => {
  test('missingKeyspaceFlags adds only what the server lacks (A covers every class but K/E)', () => {
    assert.equal(missingKeyspaceFlags(''), 'Kg$x');
    assert.equal(missingKeyspaceFlags('Kg'), '$x');
    assert.equal(missingKeyspaceFlags('AK'), '');
    assert.equal(missingKeyspaceFlags('gxE$'), 'K');
  });
});

describe('a fleet of two daemons on one Redis', () => {
  test('shared tokens, fleet-wide cap, revocation on both, Redis restart survived', async () => {
    const redis = await startRedis();
    const target = await startEchoTarget();
    const source = `redis://127.0.0.1:${redis.port}/0?namespace=fleet`;
    const args = [
      '--token-plugin',
      'TokenRedis',
      '--token-source',
      source,
      '--max-sessions-per-token',
      '1',
      '127.0.0.1:0',
    ];
    const daemons: Daemon[] = [];
    try {
      daemons.push(await spawnDaemon(args), await spawnDaemon(args));
      const [a, b] = daemons as [Daemon, Daemon];
      // No shared --token-hash-key-file: each node says its token_hash differs (the session count still agrees).
      for (const d of daemons) assert.match(d.stderr(), /TokenRedis without --token-hash-key-file/);
      const value = JSON.stringify({ host: `127.0.0.1:${target.port}` });
      // Both connected (the subscription set up the keyspace flags) before the test changes anything.
      await waitFor(
        () => redisCli(redis.port, undefined, 'CONFIG', 'GET', 'notify-keyspace-events').includes('x'),
        10_000,
        'keyspace flags',
      );
      await waitFor(() => subscribers(redis.port) === 2, 10_000, 'both subscribed');
      for (const d of daemons) {
        let status = 0;
        for (let i = 0; i < 50 && status !== 404; i++) {
          status = (await tryUpgrade(d.port, 'nope')).status;
          if (status !== 404) await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(status, 404, 'unknown token → 404 once connected');
      }

      // A token SET in Redis works on both.
      redisCli(redis.port, undefined, 'SET', 'fleet:t1', value);
      redisCli(redis.port, undefined, 'SET', 'fleet:t2', value);
      const onA = await openWs(`ws://127.0.0.1:${a.port}/?token=t1`);
      await echoes(onA, 'a1');
      // Cap 1: a session on A makes B refuse a second one for that token, but not for another token.
      assert.deepEqual(await tryUpgrade(b.port, 't1'), { status: 429, reason: 'TOKEN_SESSION_LIMIT' });
      assert.deepEqual(await tryUpgrade(a.port, 't1'), { status: 429, reason: 'TOKEN_SESSION_LIMIT' });
      const t2OnB = await openWs(`ws://127.0.0.1:${b.port}/?token=t2`);
      await echoes(t2OnB, 'b2');
      t2OnB.close();
      await once(t2OnB, 'close');
      // After A's session closes, B accepts.
      onA.close();
      await once(onA, 'close');
      let onB: WebSocket | undefined;
      for (let i = 0; i < 50 && !onB; i++) {
        onB = await openWs(`ws://127.0.0.1:${b.port}/?token=t1`).catch(() => undefined);
        if (!onB) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(onB, 'B accepts once A released the slot');
      await echoes(onB, 'b1');
      onB.close();
      await once(onB, 'close');
      // Every slot released: the session sets are empty (and so gone).
      await waitFor(
        () => redisCli(redis.port, undefined, 'KEYS', 'wsproxy:sessions:*').trim() === '',
        5_000,
        'slots released',
      );

      // DEL closes live sessions on both daemons with 1008, without --revalidate-interval.
      redisCli(redis.port, undefined, 'SET', 'fleet:t3', value);
      redisCli(redis.port, undefined, 'SET', 'fleet:t4', value);
      const s3 = await openWs(`ws://127.0.0.1:${a.port}/?token=t3`);
      const s4 = await openWs(`ws://127.0.0.1:${b.port}/?token=t4`);
      const s2 = await openWs(`ws://127.0.0.1:${b.port}/?token=t2`);
      const [c3, c4] = [closed(s3), closed(s4)];
      redisCli(redis.port, undefined, 'DEL', 'fleet:t3', 'fleet:t4');
      assert.deepEqual(await c3, { code: 1008, reason: 'Token revoked' });
      assert.deepEqual(await c4, { code: 1008, reason: 'Token revoked' });
      await echoes(s2, 'untouched'); // another token's session goes on

      // Redis down: new lookups answer 503 at once on both; live sessions go on.
      await redis.stop();
      for (const d of daemons)
        assert.deepEqual(await tryUpgrade(d.port, 't2'), { status: 503, reason: 'TOKEN_SOURCE_DOWN' });
      await echoes(s2, 'during outage');
      // The restarted test server is empty: t2 is gone, so s2 closes either on the full re-check after the
      // reconnect or on the DEL below — 1008 either way.
      const c2 = closed(s2);

      // Back (empty: the test server keeps no data): lookups, the cap and the subscription recover.
      await redis.start();
      redisCli(redis.port, undefined, 'SET', 'fleet:t2', value);
      redisCli(redis.port, undefined, 'SET', 'fleet:t5', value);
      await waitFor(() => daemons.every((d) => d.stderr().includes('Redis reachable again')), 10_000, 'reconnect');
      await waitFor(
        () => redisCli(redis.port, undefined, 'CONFIG', 'GET', 'notify-keyspace-events').includes('x'),
        10_000,
        'keyspace flags again',
      );
      const s5 = await openWs(`ws://127.0.0.1:${a.port}/?token=t5`);
      await echoes(s5, 'a5');
      assert.deepEqual(await tryUpgrade(b.port, 't5'), { status: 429, reason: 'TOKEN_SESSION_LIMIT' });
      // The resubscribed daemons see a DEL again.
      await waitFor(() => subscribers(redis.port) === 2, 10_000, 'both subscribed again');
      const c5 = closed(s5);
      redisCli(redis.port, undefined, 'DEL', 'fleet:t5', 'fleet:t2');
      assert.deepEqual(await c5, { code: 1008, reason: 'Token revoked' });
      assert.deepEqual(await c2, { code: 1008, reason: 'Token revoked' });
      for (const d of daemons) assert.ok(!/fleet:t\d/.test(d.stderr()), 'no token in the logs');
    } finally {
      for (const d of daemons) await d.stop();
      await redis.stop();
      await target.close();
    }
  });
});

describe('keyspace notifications when CONFIG is refused', () => {
  test('one warning naming the flags; notifications the operator enabled still revoke', async () => {
    const redis = await startRedis();
    const target = await startEchoTarget();
    const password = 'acl-user-secret';
    // A user like a managed Redis gives: everything but CONFIG.
    redisCli(redis.port, undefined, 'ACL', 'SETUSER', 'wsproxy', 'on', `>${password}`, '~*', '&*', '+@all', '-config');
    const proxy = await startProxy(1, {
      targets: {
        kind: 'token',
        plugin: 'TokenRedis',
        source: `redis://wsproxy:${password}@127.0.0.1:${redis.port}/0?namespace=ns`,
        from: 'query',
      },
    });
    try {
      const warning = (l: string): boolean => l.includes('keyspace notifications could not be enabled');
      await waitFor(() => proxy.logs.some(warning), 10_000, 'the CONFIG warning');
      assert.ok(proxy.logs.find(warning)?.includes('Kg$x'), 'the warning names the flags to set');
      assert.equal(
        redisCli(redis.port, undefined, 'CONFIG', 'GET', 'notify-keyspace-events').split('\n')[1]?.trim(),
        '',
        'nothing was changed',
      );
      // The operator sets the flags on the server.
      redisCli(redis.port, undefined, 'CONFIG', 'SET', 'notify-keyspace-events', 'Kg$x');
      await waitFor(() => subscribers(redis.port) === 1, 10_000, 'subscribed');
      redisCli(redis.port, undefined, 'SET', 'ns:tok', `127.0.0.1:${target.port}`);
      let ws: WebSocket | undefined;
      for (let i = 0; i < 50 && !ws; i++) {
        ws = await openWs(`ws://127.0.0.1:${proxy.port}/?token=tok`).catch(() => undefined);
        if (!ws) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(ws, 'the token works');
      await echoes(ws, 'hello');
      const c = closed(ws);
      redisCli(redis.port, undefined, 'DEL', 'ns:tok');
      assert.deepEqual(await c, { code: 1008, reason: 'Token revoked' });
      assert.equal(proxy.logs.filter(warning).length, 1, 'warned once');
      assert.ok(!proxy.logs.join('\n').includes(password), 'the password is never logged');
    } finally {
      await proxy.close();
      await redis.stop();
      await target.close();
    }
  });
});
