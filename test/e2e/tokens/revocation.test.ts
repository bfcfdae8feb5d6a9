// Token revocation (websockify#229): a live session closes with 1008 when its token disappears from the source.
import assert from 'node:assert/strict';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { closed, openWs, startEchoTarget, startProxy } from '../../helpers/proxy.js';

const noPolicy = {
  maxSessionsPerToken: 0,
  rateLimit: undefined,
  allowTargets: [],
  allowedHosts: [],
  revalidateIntervalMs: 0,
};

describe('token revocation', () => {
  test('TokenFile: removing a token closes its live session with 1008; other sessions go on', async () => {
    const target = await startEchoTarget();
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-revoke-'));
    const file = join(dir, 'tokens');
    writeFileSync(file, `keep: 127.0.0.1:${target.port}\ndrop: 127.0.0.1:${target.port}\n`);
    const proxy = await startProxy(1, { targets: { kind: 'token', plugin: 'TokenFile', source: file, from: 'query' } });
    try {
      const kept = await openWs(`ws://127.0.0.1:${proxy.port}/?token=keep`);
      const dropped = await openWs(`ws://127.0.0.1:${proxy.port}/?token=drop`);
      writeFileSync(file, `keep: 127.0.0.1:${target.port}\n`);
      const future = new Date(Date.now() + 5_000);
      utimesSync(file, future, future); // a new mtime even on coarse-timestamp file systems
      const { code, reason } = await closed(dropped);
      assert.equal(code, 1008);
      assert.equal(reason, 'Token revoked');
      kept.send(Buffer.from('still here'));
      const [d] = (await once(kept, 'message')) as [Buffer];
      assert.equal(d.toString(), 'still here');
      kept.terminate();
      assert.ok(proxy.logs.some((l) => l.includes('reason=TOKEN_REVOKED')));
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('--revalidate-interval with JSONTokenApi: the session closes once the API answers 404', async () => {
    const target = await startEchoTarget();
    let known = true;
    const api = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
      if (known && req.url === '/t/abc') res.end(JSON.stringify({ host: '127.0.0.1', port: target.port }));
      else res.writeHead(404).end('no');
    });
    api.on('error', () => {});
    api.listen(0, '127.0.0.1');
    await once(api, 'listening');
    const apiPort = (api.address() as AddressInfo).port;
    const proxy = await startProxy(1, {
      targets: { kind: 'token', plugin: 'JSONTokenApi', source: `http://127.0.0.1:${apiPort}/t/%s`, from: 'query' },
      policy: { ...noPolicy, revalidateIntervalMs: 200 },
    });
    try {
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/?token=abc`);
      ws.send(Buffer.from('x'));
      await once(ws, 'message');
      known = false;
      // Closed within the plugin's answer cache (5 s) plus one interval.
      const { code } = await closed(ws);
      assert.equal(code, 1008);
      assert.ok(proxy.logs.some((l) => l.includes('reason=TOKEN_REVOKED')));
    } finally {
      await proxy.close();
      await target.close();
      api.close();
    }
  });
});
