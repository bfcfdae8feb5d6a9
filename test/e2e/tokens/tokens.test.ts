// Token plugins against real files, directories and unix sockets; the heartbeat against a client that never pongs.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  echoOnce,
  exchange,
  openWs,
  startEchoTarget,
  startProxy,
  statusFor,
  statusOf,
  upgradeRequest,
  waitFor,
} from '../../helpers/proxy.js';

/** Sends `request` until it is answered `status` (a source that reloads on its own schedule), for up to 5 s. */
async function pollStatus(port: number, request: string, status: number): Promise<void> {
  const end = Date.now() + 5_000;
  for (;;) {
    const got = await statusFor(port, request);
    if (got === status) return;
    if (Date.now() > end) assert.fail(`still ${got}, not ${status}, after 5 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'wsproxy-tokens-'));

describe('TokenFile', () => {
  test('?token= picks the target; missing → 401, unknown → 404; tokens never logged', async () => {
    const a = await startEchoTarget();
    const dir = tmp();
    const file = join(dir, 'tokens');
    writeFileSync(file, `# comment\n\nsecret-a: 127.0.0.1:${a.port}\nbroken line\ngone: 127.0.0.1:1\n`);
    const proxy = await startProxy(1, { targets: { kind: 'token', plugin: 'TokenFile', source: file, from: 'query' } });
    try {
      assert.equal(await echoOnce(`ws://127.0.0.1:${proxy.port}/websockify?token=secret-a`, 'via token'), 'via token');
      const missing = await exchange(proxy.port, upgradeRequest('/websockify'));
      assert.equal(statusOf(missing), 401);
      assert.match(missing, /\?token=TOKEN/);
      const unknown = await exchange(proxy.port, upgradeRequest('/websockify?token=nope-secret'));
      assert.equal(statusOf(unknown), 404);
      assert.match(unknown, /X-Wsproxy-Reason: TOKEN_UNKNOWN/);
      const logs = proxy.logs.join('');
      assert.match(logs, /token file syntax error; line skipped .*line=4/);
      assert.ok(!logs.includes('secret-a') && !logs.includes('nope-secret'), 'no token in the logs');
      assert.match(logs, /token_hash=[0-9a-f]{12}/);
    } finally {
      await proxy.close();
      await a.close();
    }
  });

  test('edits apply to new connections without a restart; a directory of files works', async () => {
    const a = await startEchoTarget();
    const b = await startTarget2();
    const dir = tmp();
    writeFileSync(join(dir, 'one'), `t1: 127.0.0.1:${a.port}\n`);
    writeFileSync(join(dir, '.one.swp'), `t9: 127.0.0.1:${a.port}\n`);
    const proxy = await startProxy(1, { targets: { kind: 'token', plugin: 'TokenFile', source: dir, from: 'query' } });
    try {
      assert.equal(await echoOnce(`ws://127.0.0.1:${proxy.port}/?token=t1`, 'x'), 'x');
      assert.equal(statusOf(await exchange(proxy.port, upgradeRequest('/?token=t9'))), 404, 'dotfiles are skipped');
      writeFileSync(join(dir, 'two'), `t2: 127.0.0.1:${b.port}\n`);
      const future = new Date(Date.now() + 5_000);
      utimesSync(join(dir, 'two'), future, future);
      // The file set is checked at most once a second: poll until the new file is seen.
      await pollStatus(proxy.port, upgradeRequest('/?token=t2'), 101);
      assert.equal(await echoOnce(`ws://127.0.0.1:${proxy.port}/?token=t2`, 'y'), 'B:y');
    } finally {
      await proxy.close();
      await a.close();
      await b.close();
    }
  });

  test('ReadOnlyTokenFile reads once; --host-token and --token-from-path', async () => {
    const a = await startEchoTarget();
    const dir = tmp();
    const file = join(dir, 'tokens');
    writeFileSync(file, `vm1.example: 127.0.0.1:${a.port}\nabc: 127.0.0.1:${a.port}\n`);
    const ro = await startProxy(1, {
      targets: { kind: 'token', plugin: 'ReadOnlyTokenFile', source: file, from: 'host' },
    });
    const byPath = await startProxy(1, { targets: { kind: 'token', plugin: 'TokenFile', source: file, from: 'path' } });
    try {
      assert.equal(await statusFor(ro.port, upgradeRequest('/', {}, 'vm1.example:6080')), 101);
      writeFileSync(file, `later: 127.0.0.1:${a.port}\n`);
      // The reloading TokenFile on the same file sees the edit first: by then a reloading source would have too.
      await pollStatus(byPath.port, upgradeRequest('/vnc/later'), 101);
      assert.equal(statusOf(await exchange(ro.port, upgradeRequest('/', {}, 'later'))), 404, 'read-only: no reload');
      assert.equal(await echoOnce(`ws://127.0.0.1:${byPath.port}/vnc/later`, 'p'), 'p');
      assert.equal(statusOf(await exchange(byPath.port, upgradeRequest('/'))), 401);
    } finally {
      await ro.close();
      await byPath.close();
      await a.close();
    }
  });

  test('--host-token: a Host refused by --allowed-host is logged as ***, never the token it is', async () => {
    const a = await startEchoTarget();
    const file = join(tmp(), 'tokens');
    writeFileSync(file, `vm1.example: 127.0.0.1:${a.port}\n`);
    const policy = {
      maxSessionsPerToken: 0,
      rateLimit: undefined,
      allowTargets: [],
      allowedHosts: ['vm1.example'],
      revalidateIntervalMs: 0,
    };
    const proxy = await startProxy(1, {
      targets: { kind: 'token', plugin: 'TokenFile', source: file, from: 'host' },
      policy,
    });
    try {
      assert.equal(await statusFor(proxy.port, upgradeRequest('/', {}, 'vm1.example:6080')), 101);
      assert.equal(statusOf(await exchange(proxy.port, upgradeRequest('/', {}, 'n0t-a-known-s3cret:6080'))), 421);
      assert.equal(
        statusOf(await exchange(proxy.port, `GET / HTTP/1.1\r\nHost: an0ther-s3cret\r\nConnection: close\r\n\r\n`)),
        421,
      );
      await waitFor(
        () => proxy.logs.filter((l) => l.includes('reason=HOST_NOT_ALLOWED')).length >= 2,
        2000,
        'two refusal lines',
      );
      const refusals = proxy.logs.filter((l) => l.includes('reason=HOST_NOT_ALLOWED'));
      assert.ok(
        refusals.some((l) => l.includes('host=***:6080')),
        refusals.join('\n'),
      );
      assert.ok(
        refusals.some((l) => /host=\*\*\*\s/.test(l)),
        refusals.join('\n'),
      );
      assert.ok(!proxy.logs.some((l) => l.includes('s3cret')), 'no token in any line');
    } finally {
      await proxy.close();
      await a.close();
    }
  });

  test('a token can name a unix socket target', async () => {
    const dir = tmp();
    const path = join(dir, 'vnc.sock');
    const server = await startEchoTarget(path);
    writeFileSync(join(dir, 'tokens'), `u: unix_socket:${path}\n`);
    const proxy = await startProxy(1, {
      targets: { kind: 'token', plugin: 'TokenFile', source: join(dir, 'tokens'), from: 'query' },
    });
    try {
      assert.equal(await echoOnce(`ws://127.0.0.1:${proxy.port}/?token=u`, 'unix'), 'unix');
    } finally {
      await proxy.close();
      await server.close();
    }
  });
});

describe('TokenFileName', () => {
  test('file named by the token; traversal and symlinks out of the directory are unknown', async () => {
    const a = await startEchoTarget();
    const root = tmp();
    const dir = join(root, 'tokens');
    mkdirSync(dir);
    writeFileSync(join(dir, 'vm7'), `127.0.0.1:${a.port}\n`);
    writeFileSync(join(root, 'outside'), `127.0.0.1:${a.port}\n`);
    symlinkSync(join(root, 'outside'), join(dir, 'link'));
    const proxy = await startProxy(1, {
      targets: { kind: 'token', plugin: 'TokenFileName', source: dir, from: 'query' },
    });
    try {
      assert.equal(await echoOnce(`ws://127.0.0.1:${proxy.port}/?token=vm7`, 'n'), 'n');
      for (const t of ['..%2Foutside', '.hidden', 'link', 'nope']) {
        assert.equal(statusOf(await exchange(proxy.port, upgradeRequest(`/?token=${t}`))), 404, t);
      }
    } finally {
      await proxy.close();
      await a.close();
    }
  });
});

describe('--heartbeat', () => {
  test('a client that never answers pings is cut; one that does stays', async () => {
    const a = await startEchoTarget();
    const proxy = await startProxy(a.port, { limits: { heartbeatMs: 200 } });
    try {
      const good = await openWs(`ws://127.0.0.1:${proxy.port}/`); // ws answers pings itself
      const raw = connect(proxy.port, '127.0.0.1');
      raw.on('error', () => {});
      raw.on('data', () => {}); // reads the pings, never pongs
      await once(raw, 'connect');
      raw.write(upgradeRequest());
      const t0 = Date.now();
      await once(raw, 'close');
      assert.ok(Date.now() - t0 >= 300, 'not before the first ping went unanswered');
      await waitFor(() => proxy.logs.some((l) => l.includes('reason=HEARTBEAT_TIMEOUT')), 2_000, 'log line');
      // Two more pings to the good client after the cut: it has outlived the point where the silent one was cut.
      let pings = 0;
      good.on('ping', () => pings++);
      await waitFor(() => pings >= 2, 5_000, 'two more pings');
      good.send(Buffer.from('alive'));
      const [d] = (await once(good, 'message')) as [Buffer];
      assert.equal(d.toString(), 'alive');
      good.terminate();
    } finally {
      await proxy.close();
      await a.close();
    }
  });
});

/** An echo target that prefixes "B:" so tests can tell it from the plain echo. */
async function startTarget2(): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((s) => {
    s.on('error', () => {});
    s.on('data', (d: Buffer) => s.write(Buffer.concat([Buffer.from('B:'), d])));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
