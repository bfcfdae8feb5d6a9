// Issue #12 findings 10, 12, 13, 14 and 18 through real sockets and the real CLI: the per-IP cap by /64 and by the
// forwarded client, JWT without exp, the failed-auth limit (429 + metric), the keyed token_hash, and 0 = no limit.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SignJWT } from 'jose';
import type WebSocket from 'ws';
import { parseAddressRange, type AddressRange } from '../../../src/policy/cidr.js';
import { adminRequest } from '../../helpers/admin.js';
import { parsePrometheus, sampleValue } from '../../helpers/prom.js';
import {
  exchange,
  openWs,
  spawnDaemon,
  startEchoTarget,
  startProxy,
  statusOf,
  upgradeRequest,
  waitFor,
  type Daemon,
} from '../../helpers/proxy.js';

const dir = mkdtempSync(join(tmpdir(), 'wsproxy-limits-'));
const now = (): number => Math.floor(Date.now() / 1000);

function range(text: string): AddressRange {
  const r = parseAddressRange(text, false);
  if (typeof r === 'string') throw new Error(r);
  return r;
}

async function echoes(ws: WebSocket, text: string): Promise<void> {
  const got = once(ws, 'message') as Promise<[Buffer]>;
  ws.send(Buffer.from(text));
  assert.equal((await got)[0].toString(), text);
}

/** A raw upgrade; resolves the status (0 when the server closed without an answer) and the reason header. */
async function upgrade(
  port: number,
  path: string,
  extra: Record<string, string> = {},
): Promise<{ status: number; reason: string; retryAfter: string }> {
  const text = await exchange(port, upgradeRequest(path, extra), { timeoutMs: 3_000 }).catch(() => '');
  return {
    status: statusOf(text),
    reason: /X-Wsproxy-Reason: (\S+)/i.exec(text)?.[1] ?? '',
    retryAfter: /Retry-After: (\S+)/i.exec(text)?.[1] ?? '',
  };
}

async function adminOf(d: Daemon): Promise<string> {
  await waitFor(() => /admin listener admin=\S+/.test(d.stderr()), 5000, 'admin listener line');
  return /admin listener admin=(\S+)/.exec(d.stderr())?.[1] ?? '';
}

describe('--max-connections-per-ip: IPv6 per /64, the forwarded client behind --trust-forwarded (#10)', () => {
  test('X-Forwarded-For 2001:db8::1 and 2001:db8::2 share one /64 slot; another /64 and the proxy itself are not held back', async () => {
    const target = await startEchoTarget();
    const proxy = await startProxy(target.port, {
      limits: { maxConnectionsPerIp: 1 },
      clientAddress: {
        proxyProtocolIn: false,
        trustedProxies: [range('127.0.0.1')],
        trustForwarded: true,
        proxyProtocolOut: undefined,
      },
    });
    const open: WebSocket[] = [];
    try {
      const url = `ws://127.0.0.1:${proxy.port}/websockify`;
      open.push(await openWs(url, { headers: { 'X-Forwarded-For': '2001:db8::1' } }));
      await echoes(open[0] as WebSocket, 'one');
      // Same /64, other address: over the cap, closed as at accept.
      assert.equal((await upgrade(proxy.port, '/websockify', { 'X-Forwarded-For': '2001:db8::2' })).status, 0);
      await waitFor(
        () => proxy.logs.some((l) => l.includes('reason=CONNECTION_LIMIT_PER_IP') && l.includes('2001:db8::2')),
        3000,
        'refusal line',
      );
      // A page request of that client is refused too; one of another client is served.
      assert.equal(
        statusOf(
          await exchange(
            proxy.port,
            'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-For: 2001:db8::3\r\nConnection: close\r\n\r\n',
          ),
        ),
        0,
      );
      assert.equal(
        statusOf(
          await exchange(
            proxy.port,
            'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-For: 192.0.2.1\r\nConnection: close\r\n\r\n',
          ),
        ),
        200,
      );
      // Another /64 and an IPv4 client each get their slot although every connection comes from 127.0.0.1.
      open.push(await openWs(url, { headers: { 'X-Forwarded-For': '2001:db8:0:1::1' } }));
      open.push(await openWs(url, { headers: { 'X-Forwarded-For': '192.0.2.7' } }));
      await echoes(open[2] as WebSocket, 'three');
      // The mapped spelling of that IPv4 client is the same client.
      assert.equal((await upgrade(proxy.port, '/websockify', { 'X-Forwarded-For': '::ffff:192.0.2.7' })).status, 0);
      // Once the first session ends, its /64 may connect again.
      const gone = once(open[0] as WebSocket, 'close');
      (open[0] as WebSocket).close();
      await gone;
      await waitFor(() => proxy.server.stats().openConnections === 2, 3000, 'slot released');
      open.push(await openWs(url, { headers: { 'X-Forwarded-For': '2001:db8::2' } }));
    } finally {
      for (const ws of open) ws.terminate();
      await proxy.close();
      await target.close();
    }
  });

  test('real connections from ::1 are counted (per /64) and refused over the cap', async () => {
    const target = await startEchoTarget();
    const proxy = await startProxy(target.port, {
      listen: { kind: 'tcp', host: '::1', port: 0 },
      limits: { maxConnectionsPerIp: 2 },
    });
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const s = connect({ host: '::1', port: proxy.port });
        s.on('error', () => undefined);
        sockets.push(s);
        await once(s, 'connect');
      }
      await once(sockets[2] as Socket, 'close');
      assert.ok(proxy.logs.some((l) => l.includes('reason=CONNECTION_LIMIT_PER_IP') && l.includes('::1')));
      assert.equal(proxy.server.stats().refused.CONNECTION_LIMIT_PER_IP, 1);
    } finally {
      for (const s of sockets) s.destroy();
      await proxy.close();
      await target.close();
    }
  });
});

describe('0 = no limit (#18)', () => {
  test('--max-connections-per-ip 0 and --max-connections 0 start and admit more than a cap of 1 would', async () => {
    const target = await startEchoTarget();
    const d = await spawnDaemon([
      '--max-connections-per-ip',
      '0',
      '--max-connections',
      '0',
      '--rate-limit',
      '0',
      '--auth-failure-limit',
      '0',
      '127.0.0.1:0',
      `127.0.0.1:${target.port}`,
    ]);
    const open: WebSocket[] = [];
    try {
      for (let i = 0; i < 4; i++) open.push(await openWs(`ws://127.0.0.1:${d.port}/websockify`));
      for (const ws of open) await echoes(ws, 'x');
    } finally {
      for (const ws of open) ws.terminate();
      await d.stop('SIGKILL');
      await target.close();
    }
  });
});

describe('JWTTokenApi requires exp (#12)', () => {
  const secret = 'a shared secret that is long enough for HS256';
  const keyFile = join(dir, 'jwt.key');
  writeFileSync(keyFile, secret, { mode: 0o600 });
  const sign = (port: number, exp: number | undefined): Promise<string> => {
    const jwt = new SignJWT({ host: '127.0.0.1', port }).setProtectedHeader({ alg: 'HS256' });
    return (exp === undefined ? jwt : jwt.setExpirationTime(exp)).sign(new TextEncoder().encode(secret));
  };

  test('without exp: refused by default (404, one reason, token not logged); expired: refused; with exp: relayed', async () => {
    const target = await startEchoTarget();
    const proxy = await startProxy(1, {
      targets: { kind: 'token', plugin: 'JWTTokenApi', source: keyFile, from: 'query' },
    });
    try {
      const noExp = await sign(target.port, undefined);
      const refused = await upgrade(proxy.port, `/?token=${noExp}`);
      assert.deepEqual([refused.status, refused.reason], [404, 'TOKEN_UNKNOWN']);
      assert.ok(proxy.logs.some((l) => l.includes('JWT refused') && l.includes('exp claim missing')));
      assert.deepEqual((await upgrade(proxy.port, `/?token=${await sign(target.port, now() - 10)}`)).status, 404);
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/?token=${await sign(target.port, now() + 60)}`);
      await echoes(ws, 'jwt');
      ws.terminate();
      assert.ok(!proxy.logs.join('').includes(noExp.split('.')[2] ?? 'x'), 'the token is never logged');
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('--token-jwt-allow-no-exp accepts a token without exp; an expired one is still refused', async () => {
    const target = await startEchoTarget();
    const d = await spawnDaemon([
      '--token-plugin',
      'JWTTokenApi',
      '--token-source',
      keyFile,
      '--token-jwt-allow-no-exp',
      '127.0.0.1:0',
    ]);
    try {
      const ws = await openWs(`ws://127.0.0.1:${d.port}/?token=${await sign(target.port, undefined)}`);
      await echoes(ws, 'no exp');
      ws.terminate();
      assert.equal((await upgrade(d.port, `/?token=${await sign(target.port, now() - 10)}`)).status, 404);
    } finally {
      await d.stop('SIGKILL');
      await target.close();
    }
  });
});

describe('--auth-failure-limit: token and credential guessing (#13)', () => {
  test('default 10/min: the 11th bad token gets 429 + Retry-After, good tokens from other clients and successes are not held back; the metric counts', async () => {
    const target = await startEchoTarget();
    const tokens = join(dir, 'tokens');
    writeFileSync(tokens, `good: 127.0.0.1:${target.port}\n`);
    const d = await spawnDaemon([
      '--token-plugin',
      'TokenFile',
      '--token-source',
      tokens,
      '--trust-forwarded',
      '--trusted-proxy',
      '127.0.0.1',
      '--admin-listen',
      '127.0.0.1:0',
      '127.0.0.1:0',
    ]);
    try {
      const from = (ip: string) => ({ 'X-Forwarded-For': ip });
      // Successes are never counted: 15 good handshakes from one client leave its budget whole.
      for (let i = 0; i < 15; i++) {
        const ws = await openWs(`ws://127.0.0.1:${d.port}/?token=good`, { headers: from('2001:db8::5') });
        ws.terminate();
      }
      for (let i = 0; i < 10; i++)
        assert.equal((await upgrade(d.port, `/?token=guess${i}`, from('2001:db8::5'))).status, 404, `guess ${i}`);
      const limited = await upgrade(d.port, '/?token=guess10', from('2001:db8::6'));
      assert.deepEqual(
        [limited.status, limited.reason],
        [429, 'AUTH_RATE_LIMITED'],
        'another address of the same /64 is the same client',
      );
      assert.ok(Number(limited.retryAfter) >= 1, 'Retry-After');
      assert.equal(
        (await upgrade(d.port, '/?token=good', from('2001:db8::5'))).status,
        429,
        'held back even with a good token (no oracle)',
      );
      const other = await openWs(`ws://127.0.0.1:${d.port}/?token=good`, { headers: from('192.0.2.44') });
      await echoes(other, 'other client');
      other.terminate();
      assert.equal(d.stderr().match(/reason=AUTH_RATE_LIMITED/g)?.length, 2, 'one line per refusal');
      assert.ok(!d.stderr().includes('guess10'), 'tokens are not logged');
      const metrics = parsePrometheus((await adminRequest(await adminOf(d), 'GET', '/metrics')).body);
      assert.equal(sampleValue(metrics, 'wsproxy_handshake_failures_total', { reason: 'AUTH_RATE_LIMITED' }), 2);
      assert.equal(sampleValue(metrics, 'wsproxy_handshake_failures_total', { reason: 'TOKEN_UNKNOWN' }), 10);
    } finally {
      await d.stop('SIGKILL');
      await target.close();
    }
  });

  test('a short limit recovers once Retry-After has passed; --web-auth Basic failures count, a bare 401 challenge does not', async () => {
    const d = await spawnDaemon([
      '--auth-plugin',
      'BasicHTTPAuth',
      '--auth-source',
      'alice:correct horse',
      '--web-auth',
      '--auth-failure-limit',
      '2/s',
      '127.0.0.1:0',
      '127.0.0.1:1',
    ]);
    try {
      const get = async (auth?: string): Promise<{ status: number; reason: string }> => {
        const text = await exchange(
          d.port,
          `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${auth === undefined ? '' : `Authorization: Basic ${Buffer.from(auth).toString('base64')}\r\n`}\r\n`,
        );
        return { status: statusOf(text), reason: /X-Wsproxy-Reason: (\S+)/i.exec(text)?.[1] ?? '' };
      };
      for (let i = 0; i < 5; i++) assert.equal((await get()).status, 401, 'the challenge without credentials');
      assert.equal((await get('alice:wrong1')).status, 401);
      assert.equal((await get('alice:wrong2')).status, 401);
      assert.deepEqual(await get('alice:correct horse'), { status: 429, reason: 'AUTH_RATE_LIMITED' });
      let status = 429;
      const end = Date.now() + 5_000;
      while (status === 429 && Date.now() < end) {
        status = (await get('alice:correct horse')).status;
        if (status === 429) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 200, 'the client may log in again after the window');
      assert.ok(!d.stderr().includes('correct horse') && !d.stderr().includes('wrong1'));
    } finally {
      await d.stop('SIGKILL');
    }
  });
});

describe('token_hash is keyed (#14)', () => {
  const hashIn = (text: string): string => {
    const m = /refused: .*reason=TOKEN_UNKNOWN.*token_hash=([0-9a-f]{12})/.exec(text);
    return m?.[1] ?? '';
  };
  const tokenFile = join(dir, 'hash-tokens');
  writeFileSync(tokenFile, 'known: 127.0.0.1:1\n');
  const TOKEN = 'short1';

  async function hashFrom(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
    const d = await spawnDaemon(
      ['--token-plugin', 'TokenFile', '--token-source', tokenFile, ...args, '127.0.0.1:0'],
      env,
    );
    try {
      assert.equal((await upgrade(d.port, `/?token=${TOKEN}`)).status, 404);
      await waitFor(() => hashIn(d.stderr()) !== '', 3000, 'refusal line');
      return hashIn(d.stderr());
    } finally {
      await d.stop('SIGKILL');
    }
  }

  test('made 0600 in the state dir and reused on restart; the same --token-hash-key-file gives the same hash on two nodes', async () => {
    const sha = createHash('sha256').update(TOKEN).digest('hex').slice(0, 12);
    const state = mkdtempSync(join(tmpdir(), 'wsproxy-state-'));
    const first = await hashFrom(['--state-dir', state]);
    const keyFile = join(state, 'token-hash.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const key = readFileSync(keyFile, 'utf8');
    assert.notEqual(first, sha, 'not the unsalted SHA-256 prefix');
    assert.equal(await hashFrom(['--state-dir', state]), first, 'stable across a restart');
    assert.equal(readFileSync(keyFile, 'utf8'), key, 'the key file is reused, not replaced');
    const other = await hashFrom(['--state-dir', mkdtempSync(join(tmpdir(), 'wsproxy-state-'))]);
    assert.notEqual(other, first, 'another installation, another key');

    const shared = join(dir, 'fleet.key');
    writeFileSync(shared, 'a fleet-wide secret of enough length\n', { mode: 0o600 });
    const [a, b] = await Promise.all([
      hashFrom(['--token-hash-key-file', shared]),
      hashFrom(['--token-hash-key-file', shared]),
    ]);
    assert.equal(a, b, 'two nodes, one key file: one hash');
    assert.notEqual(a, sha);
  });
});
