// Token sources backed by real things: a directory of real unix sockets, a real HTTP API.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  echoOnce,
  exchange,
  startEchoTarget,
  startProxy,
  startTarget,
  statusOf,
  upgradeRequest,
} from '../../helpers/proxy.js';

describe('UnixDomainSocketDirectory', () => {
  test('a token names a socket in the directory; ../ escapes to a real socket outside are refused', async () => {
    const root = mkdtempSync(join(tmpdir(), 'wsproxy-uds-'));
    const dir = join(root, 'sockets');
    mkdirSync(dir);
    const inside = await startEchoTarget(join(dir, 'desk1'));
    const outside = await startTarget((s) => s.end('escaped!'), join(root, 'secret.sock'));
    const proxy = await startProxy(1, {
      targets: { kind: 'token', plugin: 'UnixDomainSocketDirectory', source: dir, from: 'query' },
    });
    try {
      assert.equal(await echoOnce(`ws://127.0.0.1:${proxy.port}/?token=desk1`, 'uds'), 'uds');
      for (const t of ['..%2Fsecret.sock', '%2E%2E%2Fsecret.sock', 'nope', '.']) {
        assert.equal(statusOf(await exchange(proxy.port, upgradeRequest(`/websockify?token=${t}`))), 404, t);
      }
    } finally {
      await proxy.close();
      await inside.close();
      await outside.close();
    }
  });
});

describe('BaseTokenAPI and JSONTokenApi', () => {
  test('token URL-encoded, plain and JSON answers, 404 → unknown, 5xx and timeouts → 503, answers cached', async () => {
    const target = await startEchoTarget();
    const seen: string[] = [];
    const api = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
      seen.push(req.url ?? '');
      const token = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
      if (token === 'slow') return; // never answers
      if (token === 'boom') {
        res.writeHead(500).end('oops');
        return;
      }
      if (token === 'vm 1/a') {
        if (req.url?.startsWith('/json/')) res.end(JSON.stringify({ host: '127.0.0.1', port: target.port }));
        else res.end(`127.0.0.1:${target.port}\n`);
        return;
      }
      res.writeHead(404).end('no');
    });
    api.listen(0, '127.0.0.1');
    await once(api, 'listening');
    const apiPort = (api.address() as AddressInfo).port;
    const plain = await startProxy(1, {
      targets: { kind: 'token', plugin: 'BaseTokenAPI', source: `http://127.0.0.1:${apiPort}/plain/%s`, from: 'query' },
    });
    const json = await startProxy(1, {
      targets: { kind: 'token', plugin: 'JSONTokenApi', source: `http://127.0.0.1:${apiPort}/json/%s`, from: 'query' },
    });
    try {
      const token = encodeURIComponent('vm 1/a');
      assert.equal(await echoOnce(`ws://127.0.0.1:${plain.port}/?token=${token}`, 'api'), 'api');
      assert.ok(seen.includes('/plain/vm%201%2Fa'), `token encoded in the lookup: ${seen.join(' ')}`);
      assert.equal(await echoOnce(`ws://127.0.0.1:${json.port}/?token=${token}`, 'json'), 'json');
      const before = seen.length;
      assert.equal(await echoOnce(`ws://127.0.0.1:${json.port}/?token=${token}`, 'again'), 'again');
      assert.equal(seen.length, before, 'second lookup served from the cache');
      assert.equal(statusOf(await exchange(plain.port, upgradeRequest('/?token=unknown'))), 404);
      const down = await exchange(plain.port, upgradeRequest('/?token=boom'));
      assert.equal(statusOf(down), 503);
      assert.doesNotMatch(down, /127\.0\.0\.1/, 'the API address is not shown to the client');
      assert.ok(plain.logs.some((l) => l.includes('reason=TOKEN_SOURCE_DOWN') && l.includes('answered 500')));
    } finally {
      await plain.close();
      await json.close();
      api.closeAllConnections();
      api.close();
      await target.close();
    }
  });

  test('an API that does not answer in time is 503, an API that is down too', async () => {
    const api = createHttpServer(() => {}); // accepts, never answers
    api.listen(0, '127.0.0.1');
    await once(api, 'listening');
    const port = (api.address() as AddressInfo).port;
    const { tokenApiResolver } = await import('../../../src/targets/token-api.js');
    const { silentLogger } = await import('../../../src/log.js');
    const slow = tokenApiResolver(`http://127.0.0.1:${port}/%s`, {
      json: false,
      timeoutMs: 200,
      positiveTtlMs: 0,
      negativeTtlMs: 0,
      log: silentLogger,
    });
    await assert.rejects(
      slow.resolve('x', { remoteAddress: '', scheme: 'ws', host: undefined, path: '/' }),
      /TOKEN_SOURCE_DOWN|no answer within 200 ms/,
    );
    api.closeAllConnections();
    api.close();
    await once(api, 'close');
    const gone = tokenApiResolver(`http://127.0.0.1:${port}/%s`, {
      json: true,
      timeoutMs: 1000,
      positiveTtlMs: 0,
      negativeTtlMs: 0,
      log: silentLogger,
    });
    await assert.rejects(
      gone.resolve('x', { remoteAddress: '', scheme: 'ws', host: undefined, path: '/' }),
      (err: Error & { code?: string }) => err.code === 'TOKEN_SOURCE_DOWN',
    );
  });
});
