// TokenRedis against a real redis-server: source forms, values, namespace, password, Redis down and back.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { parseRedisSource, parseRedisValue } from '../../../src/targets/redis.js';
import {
  exchange,
  openWs,
  redisCli,
  startEchoTarget,
  startProxy,
  startRedis,
  statusOf,
  upgradeRequest,
  waitFor,
} from '../../helpers/proxy.js';

describe('TokenRedis source and values (websockify formats)', () => {
  test('host[:port[:db[:password[:namespace]]]], quoted fields and redis:// URLs', () => {
    assert.deepEqual(parseRedisSource('my-redis'), {
      host: 'my-redis',
      port: 6379,
      db: 0,
      password: undefined,
      username: undefined,
      namespace: undefined,
      tls: false,
    });
    assert.deepEqual(parseRedisSource('h:::pw'), {
      host: 'h',
      port: 6379,
      db: 0,
      password: 'pw',
      username: undefined,
      namespace: undefined,
      tls: false,
    });
    assert.deepEqual(parseRedisSource('h:6380:2:"p:w":ns'), {
      host: 'h',
      port: 6380,
      db: 2,
      password: 'p:w',
      username: undefined,
      namespace: 'ns',
      tls: false,
    });
    assert.deepEqual(parseRedisSource('rediss://u:p%40ss@[::1]:6390/3?namespace=vnc'), {
      host: '::1',
      port: 6390,
      db: 3,
      password: 'p@ss',
      username: 'u',
      namespace: 'vnc',
      tls: true,
    });
    assert.throws(() => parseRedisSource('h:port'), /not a Redis port/);
    assert.deepEqual(parseRedisValue('{"host": "192.0.2.1:5900"}'), { kind: 'tcp', host: '192.0.2.1', port: 5900 });
    assert.deepEqual(parseRedisValue('192.0.2.1:5901'), { kind: 'tcp', host: '192.0.2.1', port: 5901 });
    assert.equal(typeof parseRedisValue('{"nohost": 1}'), 'string');
  });
});

describe('TokenRedis with a real redis-server', () => {
  test('lookups with password and namespace; down → 503 at once; back → works again', async () => {
    const password = 'redis-test-secret';
    const redis = await startRedis(password);
    const target = await startEchoTarget();
    redisCli(redis.port, password, 'SET', 'vnc:json-token', JSON.stringify({ host: `127.0.0.1:${target.port}` }));
    redisCli(redis.port, password, 'SET', 'vnc:plain-token', `127.0.0.1:${target.port}`);
    const proxy = await startProxy(1, {
      targets: {
        kind: 'token',
        plugin: 'TokenRedis',
        source: `127.0.0.1:${redis.port}::${password}:vnc`,
        from: 'query',
      },
    });
    const echo = async (token: string): Promise<string> => {
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/websockify?token=${token}`);
      ws.send(Buffer.from(token));
      const [d] = (await once(ws, 'message')) as [Buffer];
      ws.terminate();
      return d.toString();
    };
    try {
      let ok = false;
      for (let i = 0; i < 50 && !ok; i++) {
        ok = statusOf(await exchange(proxy.port, upgradeRequest('/?token=nope'))) === 404;
        if (!ok) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(ok, 'unknown token → 404 once connected');
      assert.equal(await echo('json-token'), 'json-token');
      assert.equal(await echo('plain-token'), 'plain-token');
      redisCli(redis.port, password, 'SET', 'vnc:added-later', `127.0.0.1:${target.port}`);
      assert.equal(await echo('added-later'), 'added-later');

      await redis.stop();
      const started = Date.now();
      const down = await exchange(proxy.port, upgradeRequest('/?token=json-token'));
      assert.equal(statusOf(down), 503);
      assert.ok(Date.now() - started < 3_000, 'answered quickly while Redis is down');

      await redis.start();
      redisCli(redis.port, password, 'SET', 'vnc:json-token', JSON.stringify({ host: `127.0.0.1:${target.port}` }));
      await waitFor(() => proxy.logs.some((l) => l.includes('Redis reachable again')), 10_000, 'reconnect');
      assert.equal(await echo('json-token'), 'json-token');
      assert.ok(!proxy.logs.join('').includes(password), 'the Redis password is never logged');
    } finally {
      await proxy.close();
      await target.close();
      await redis.stop();
    }
  });
});
