// Limits and policy against the real server: target allowlist after DNS (localhost resolving to a blocked address),
// the metadata default, the Host allowlist (421 on pages and upgrades), the handshake rate limit (429 + Retry-After),
// and the per-token session cap (429), each with its reason code and log line.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { PolicyConfig } from '../../../src/config/types.js';
import { parseAddressRange, type AddressRange } from '../../../src/policy/cidr.js';
import {
  closed,
  exchange,
  openWs,
  startEchoTarget,
  startProxy,
  statusFor,
  statusOf,
  upgradeRequest,
  waitFor,
} from '../../helpers/proxy.js';

const range = (t: string): AddressRange => {
  const r = parseAddressRange(t, true);
  if (typeof r === 'string') throw new Error(r);
  return r;
};
const policy = (over: Partial<PolicyConfig>): PolicyConfig => ({
  maxSessionsPerToken: 0,
  rateLimit: undefined,
  allowTargets: [],
  allowedHosts: [],
  revalidateIntervalMs: 0,
  ...over,
});

describe('target policy after DNS', () => {
  test('--allow-target 10.0.0.0/8 with target localhost:port → 403 after resolution; the target sees nothing', async () => {
    const target = await startEchoTarget();
    const proxy = await startProxy(target.port, {
      targets: { kind: 'fixed', target: { kind: 'tcp', host: 'localhost', port: target.port } },
      policy: policy({ allowTargets: [range('10.0.0.0/8')] }),
    });
    const open = await startProxy(target.port, {
      targets: { kind: 'fixed', target: { kind: 'tcp', host: 'localhost', port: target.port } },
      policy: policy({ allowTargets: [range(`127.0.0.0/8:${target.port}`), range(`[::1]:${target.port}`)] }),
    });
    try {
      const res = await exchange(proxy.port, upgradeRequest());
      assert.equal(statusOf(res), 403);
      assert.match(res, /X-Wsproxy-Reason: TARGET_FORBIDDEN/);
      assert.doesNotMatch(res, /127\.0\.0\.1|::1/, 'the client is not told internal addresses');
      assert.ok(proxy.logs.some((l) => l.includes('reason=TARGET_FORBIDDEN') && l.includes('not in --allow-target')));
      assert.equal(target.sockets.length, 0, 'no connection was attempted');
      const ws = await openWs(`ws://127.0.0.1:${open.port}/websockify`);
      ws.send(Buffer.from('ok'));
      const [d] = (await once(ws, 'message')) as [Buffer];
      assert.equal(d.toString(), 'ok', 'listed range and port: allowed');
      ws.terminate();
    } finally {
      await proxy.close();
      await open.close();
      await target.close();
    }
  });

  test('link-local / metadata addresses are refused by default', async () => {
    const proxy = await startProxy(80, {
      targets: { kind: 'fixed', target: { kind: 'tcp', host: '169.254.169.254', port: 80 } },
    });
    try {
      const res = await exchange(proxy.port, upgradeRequest());
      assert.equal(statusOf(res), 403);
      assert.match(res, /X-Wsproxy-Reason: TARGET_FORBIDDEN/);
      assert.ok(proxy.logs.some((l) => l.includes('link-local or metadata address')));
    } finally {
      await proxy.close();
    }
  });
});

describe('--allowed-host', () => {
  test('other Host names get 421 on pages and upgrades; listed ones are served', async () => {
    const target = await startEchoTarget();
    const proxy = await startProxy(target.port, {
      policy: policy({ allowedHosts: ['vnc.example.test', '127.0.0.1'] }),
    });
    try {
      const page = await exchange(proxy.port, 'GET / HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\n\r\n');
      assert.equal(statusOf(page), 421);
      assert.match(page, /X-Wsproxy-Reason: HOST_NOT_ALLOWED/);
      const up = await exchange(proxy.port, upgradeRequest('/websockify', {}, 'evil.test:6080'));
      assert.equal(statusOf(up), 421);
      assert.equal(target.sockets.length, 0);
      assert.equal(await statusFor(proxy.port, upgradeRequest('/websockify', {}, 'VNC.example.test:6080')), 101);
      assert.equal(
        statusOf(await exchange(proxy.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')),
        200,
      );
      assert.ok(proxy.logs.some((l) => l.includes('reason=HOST_NOT_ALLOWED') && l.includes('status=421')));
    } finally {
      await proxy.close();
      await target.close();
    }
  });
});

describe('rate limit and per-token cap', () => {
  test('--rate-limit: beyond the burst → 429 with Retry-After', async () => {
    const target = await startEchoTarget();
    const proxy = await startProxy(target.port, { policy: policy({ rateLimit: { perSecond: 1 / 60, burst: 2 } }) });
    try {
      assert.equal(await statusFor(proxy.port, upgradeRequest()), 101);
      assert.equal(await statusFor(proxy.port, upgradeRequest()), 101);
      const res = await exchange(proxy.port, upgradeRequest());
      assert.equal(statusOf(res), 429);
      assert.match(res, /Retry-After: (\d+)/);
      assert.ok(Number(/Retry-After: (\d+)/.exec(res)?.[1]) >= 1);
      assert.ok(proxy.logs.some((l) => l.includes('reason=RATE_LIMITED')));
      assert.equal(
        statusOf(await exchange(proxy.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')),
        200,
        'pages are not handshakes',
      );
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('--max-sessions-per-token: the second live session of a token → 429; a slot frees when a session ends', async () => {
    const target = await startEchoTarget();
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-cap-'));
    const file = join(dir, 'tokens');
    writeFileSync(file, `one: 127.0.0.1:${target.port}\ntwo: 127.0.0.1:${target.port}\n`);
    const proxy = await startProxy(1, {
      targets: { kind: 'token', plugin: 'TokenFile', source: file, from: 'query' },
      policy: policy({ maxSessionsPerToken: 1 }),
    });
    try {
      const first = await openWs(`ws://127.0.0.1:${proxy.port}/?token=one`);
      const res = await exchange(proxy.port, upgradeRequest('/?token=one'));
      assert.equal(statusOf(res), 429);
      assert.match(res, /X-Wsproxy-Reason: TOKEN_SESSION_LIMIT/);
      const other = await openWs(`ws://127.0.0.1:${proxy.port}/?token=two`);
      other.terminate();
      // A refused unknown token does not take a slot either.
      assert.equal(statusOf(await exchange(proxy.port, upgradeRequest('/?token=nope'))), 404);
      first.close();
      await closed(first);
      await waitFor(() => proxy.server.stats().activeSessions === 0, 5_000, 'sessions to end');
      const again = await openWs(`ws://127.0.0.1:${proxy.port}/?token=one`);
      again.terminate();
      assert.ok(!proxy.logs.join('').includes('token=one'), 'the token is not logged');
    } finally {
      await proxy.close();
      await target.close();
    }
  });
});
