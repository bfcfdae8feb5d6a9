// Configuration reload (issue #7 "Operations") against the real daemon: SIGHUP (and POST /reload on the admin
// listener) re-reads the --config file with the original flags and environment, applies what can change live to new
// connections while open sessions go on, keeps the running configuration entirely when the new one is broken, and
// names the options that need a restart.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type WebSocket from 'ws';
import { adminRequest } from '../../helpers/admin.js';
import { parsePrometheus, sampleValue } from '../../helpers/prom.js';
import {
  closed,
  freePort,
  openWs,
  redisCli,
  spawnDaemon,
  startEchoTarget,
  startProxy,
  startRedis,
  startTarget,
  waitFor,
  type Daemon,
  type TestTarget,
} from '../../helpers/proxy.js';

/** Writes a config file (JSON is YAML too). */
function writeConfig(file: string, options: Record<string, unknown>): void {
  writeFileSync(file, JSON.stringify(options, null, 2));
}

async function echoes(ws: WebSocket, text: string): Promise<void> {
  const got = once(ws, 'message') as Promise<[Buffer]>;
  ws.send(Buffer.from(text));
  assert.equal((await got)[0].toString(), text);
}

function lines(d: Daemon, pattern: RegExp): string[] {
  return d
    .stderr()
    .split('\n')
    .filter((l) => pattern.test(l));
}

/** Sends SIGHUP and waits for the n-th reload outcome line (applied or refused). */
async function sighup(d: Daemon): Promise<string> {
  const outcome = /configuration reload(ed| refused)/;
  const before = lines(d, outcome).length;
  d.proc.kill('SIGHUP');
  await waitFor(() => lines(d, outcome).length > before, 10_000, 'reload outcome line');
  return lines(d, outcome)[before] ?? '';
}

/** An echo target, a temp dir with the config file, and the daemon started on it. */
interface Setup {
  readonly target: TestTarget;
  readonly dir: string;
  readonly config: string;
  /** Writes `token: target` lines to `dir/name` and returns the path. */
  tokens(name: string, ...tokens: string[]): string;
}

/** Runs `body` against a daemon started with `--config` holding `first(setup)`; stops it (SIGINT) and the target. */
async function withDaemon(
  first: (s: Setup) => Record<string, unknown>,
  body: (d: Daemon, s: Setup) => Promise<void>,
): Promise<void> {
  const target = await startEchoTarget();
  const dir = mkdtempSync(join(tmpdir(), 'wsproxy-reload-'));
  const setup: Setup = {
    target,
    dir,
    config: join(dir, 'wsproxy.yaml'),
    tokens(name, ...tokens) {
      const file = join(dir, name);
      writeFileSync(file, tokens.map((t) => `${t}: 127.0.0.1:${target.port}\n`).join(''));
      return file;
    },
  };
  writeConfig(setup.config, first(setup));
  const d = await spawnDaemon(['--config', setup.config]);
  try {
    await body(d, setup);
  } finally {
    const code = await d.stop('SIGINT');
    await target.close();
    assert.equal(code, 0);
  }
}

describe('SIGHUP reloads the configuration', () => {
  test('a new token file: its tokens relay, a token only in the old one is refused, and its live session closes with 1008', async () => {
    const tokenFile = (source: string): Record<string, unknown> => ({
      listen: '127.0.0.1:0',
      'token-plugin': 'TokenFile',
      'token-source': source,
    });
    await withDaemon(
      (s) => tokenFile(s.tokens('tokens-a', 'only-a', 'both')),
      async (d, s) => {
        const url = (token: string): string => `ws://127.0.0.1:${d.port}/websockify?token=${token}`;
        const onA = await openWs(url('only-a'));
        const onBoth = await openWs(url('both'));
        await echoes(onA, 'a before');
        await assert.rejects(openWs(url('only-b')), /unexpected response 404/);

        const revoked = closed(onA);
        writeConfig(s.config, tokenFile(s.tokens('tokens-b', 'only-b', 'both')));
        const line = await sighup(d);
        assert.match(line, new RegExp(`configuration reloaded why=SIGHUP file=${s.config} changed=token-source$`));
        // The live session whose token the new source does not know is closed like a revocation.
        assert.deepEqual(await revoked, { code: 1008, reason: 'Token revoked' });
        // A session whose token is in both goes on.
        await echoes(onBoth, 'both after');
        const onB = await openWs(url('only-b'));
        await echoes(onB, 'b after');
        await assert.rejects(openWs(url('only-a')), /unexpected response 404/);

        // The old file is no longer read: a token added to it stays unknown.
        s.tokens('tokens-a', 'later-a');
        await assert.rejects(openWs(url('later-a')), /unexpected response 404/);
        // The new file is re-read at once on the next SIGHUP, even though the configuration did not change.
        s.tokens('tokens-b', 'only-b', 'fresh');
        assert.match(await sighup(d), /configuration reloaded .*changed=none$/);
        const fresh = await openWs(url('fresh'));
        await echoes(fresh, 'fresh');
        for (const ws of [fresh, onB, onBoth]) ws.close();
      },
    );
  });

  test('new Origin and Host allowlists and log level apply to new connections; an open session keeps relaying', async () => {
    const base = (s: Setup) => ({ listen: '127.0.0.1:0', target: `127.0.0.1:${s.target.port}` });
    await withDaemon(
      (s) => ({ ...base(s), 'allow-origin': 'https://a.example' }),
      async (d, s) => {
        const url = `ws://127.0.0.1:${d.port}/websockify`;
        const live = await openWs(url, { origin: 'https://a.example' });
        await echoes(live, 'before');
        await assert.rejects(openWs(url, { origin: 'https://b.example' }), /unexpected response 403/);
        assert.equal(lines(d, /session open/).length, 0, 'no debug lines at the start level (info)');

        writeConfig(s.config, {
          ...base(s),
          'allow-origin': 'https://b.example',
          'allowed-host': 'vnc.example',
          'log-level': 'debug',
        });
        assert.match(await sighup(d), /configuration reloaded .*changed=allow-origin,log-level,allowed-host$/);
        await assert.rejects(
          openWs(url, { origin: 'https://a.example', headers: { Host: 'vnc.example' } }),
          /unexpected response 403/,
        );
        // 127.0.0.1 is no longer an allowed Host name: refused before anything else (421).
        await assert.rejects(openWs(url, { origin: 'https://b.example' }), /unexpected response 421/);
        const fresh = await openWs(url, { origin: 'https://b.example', headers: { Host: 'vnc.example' } });
        await echoes(fresh, 'new rules');
        await echoes(live, 'the open session was admitted under the old rules and goes on');
        assert.ok(lines(d, /session open/).length >= 1, 'debug lines once the reload set --log-level debug');
        fresh.close();
        live.close();
      },
    );
  });

  test('a broken config file is one error line with a reason code; nothing of it applies; the fixed file does', async () => {
    const base = (s: Setup) => ({
      listen: '127.0.0.1:0',
      target: `127.0.0.1:${s.target.port}`,
      'allow-origin': 'https://a.example',
    });
    await withDaemon(base, async (d, s) => {
      const { config, dir } = s;
      const start = base(s);
      const url = `ws://127.0.0.1:${d.port}/websockify`;
      const stillOld = async (): Promise<void> => {
        const ws = await openWs(url, { origin: 'https://a.example' });
        await echoes(ws, 'old rules');
        ws.close();
        await assert.rejects(openWs(url, { origin: 'https://b.example' }), /unexpected response 403/);
      };
      const live = await openWs(url, { origin: 'https://a.example' });
      const refused = (reason: string): RegExp =>
        new RegExp(
          `ERROR configuration reload refused; the running configuration stays in use why=SIGHUP file=${config} reason=${reason} problem=`,
        );

      writeFileSync(config, 'listen: "127.0.0.1:0"\nallow-origin: [https://b.example\n');
      assert.match(await sighup(d), refused('CONFIG_SYNTAX'));
      await stillOld();

      // One valid change next to one bad value: neither applies.
      writeConfig(config, { ...start, 'allow-origin': 'https://b.example', 'rate-limit': 'often' });
      const invalid = await sighup(d);
      assert.match(invalid, refused('CONFIG_INVALID'));
      assert.match(invalid, /--rate-limit/);
      await stillOld();

      writeConfig(config, { ...start, 'allow-origin': 'https://b.example', cert: join(dir, 'missing.pem') });
      assert.match(await sighup(d), /reason=CONFIG_INVALID problem=.*--cert: .*missing\.pem.* not found/);
      await stillOld();

      rmSync(config);
      assert.match(await sighup(d), refused('CONFIG_UNREADABLE'));
      await stillOld();
      assert.equal(lines(d, /configuration reload refused/).length, 4, 'one error line per refused reload');
      assert.equal(lines(d, / ERROR /).length, 4, 'and no other error line');

      writeConfig(config, { ...start, 'allow-origin': 'https://b.example' });
      assert.match(await sighup(d), /INFO {2}configuration reloaded why=SIGHUP .*changed=allow-origin$/);
      await echoes(await openWs(url, { origin: 'https://b.example' }), 'fixed');
      await echoes(live, 'alive throughout');
      live.close();
    });
  });

  test('a new listen port needs a restart: one warning naming it, the old port keeps serving, the rest applies', async () => {
    await withDaemon(
      (s) => ({ listen: '127.0.0.1:0', target: `127.0.0.1:${s.target.port}` }),
      async (d, s) => {
        const other = await freePort();
        writeConfig(s.config, {
          listen: `127.0.0.1:${other}`,
          target: `127.0.0.1:${s.target.port}`,
          'allow-origin': 'https://b.example',
          workers: '2',
        });
        assert.match(await sighup(d), /configuration reloaded .*changed=allow-origin$/);
        const warnings = lines(d, /WARN {2}configuration reload: restart needed/);
        assert.equal(warnings.length, 1);
        assert.match(warnings[0] ?? '', /restart_needed=listen,workers$/);
        await echoes(
          await openWs(`ws://127.0.0.1:${d.port}/websockify`, { origin: 'https://b.example' }),
          'old port, new origin',
        );
        const probe = connect(other, '127.0.0.1');
        const [err] = (await once(probe, 'error')) as [NodeJS.ErrnoException];
        assert.equal(err.code, 'ECONNREFUSED', 'nothing listens on the new port');
      },
    );
  });
});

describe('reload() in the library', () => {
  test('a new fixed target and an auth plugin apply to new sessions; the open one stays on its target; max-message-size too', async () => {
    const first = await startEchoTarget();
    const second = await startTarget((socket) =>
      socket.on('data', (d: Buffer) => socket.write(`second:${d.toString()}`)),
    );
    const proxy = await startProxy(first.port, { log: { level: 'info', format: 'text' } });
    try {
      const url = `ws://127.0.0.1:${proxy.port}/websockify`;
      const open = await openWs(url);
      await echoes(open, 'first');
      const running = proxy.server.config();
      const result = await proxy.server.reload('test', {
        next: {
          ...running,
          targets: { kind: 'fixed', target: { kind: 'tcp', host: '127.0.0.1', port: second.port } },
          auth: { plugin: 'BasicHTTPAuth', source: 'op:pass-5e1f', webAuth: false },
          limits: { ...running.limits, maxMessageBytes: 8 },
        },
      });
      assert.deepEqual(result, {
        ok: true,
        changed: ['target', 'max-message-size', 'auth-plugin', 'auth-source'],
        restartNeeded: [],
      });
      await assert.rejects(openWs(url), /unexpected response 401/);
      const basic = { Authorization: `Basic ${Buffer.from('op:pass-5e1f').toString('base64')}` };
      const fresh = await openWs(url, { headers: basic });
      const answer = once(fresh, 'message') as Promise<[Buffer]>;
      fresh.send(Buffer.from('hello'));
      assert.equal((await answer)[0].toString(), 'second:hello', 'new sessions go to the new target');
      const small = await openWs(url, { headers: basic });
      small.send(Buffer.alloc(9));
      assert.equal((await closed(small)).code, 1009, 'the new --max-message-size applies to new sessions');
      await echoes(open, 'the open session still reaches the first target, with the old message size');
      assert.ok(!proxy.logs.join('').includes('pass-5e1f'), 'the Basic password is not logged');
      fresh.close();
      open.close();
    } finally {
      await proxy.close();
      await first.close();
      await second.close();
    }
  });
});

describe('SIGHUP with --workers 2', () => {
  test('every worker takes the new token file; one line for all; a broken file is one error line and no worker changes', async () => {
    const base = { listen: '127.0.0.1:0', workers: '2', 'token-plugin': 'TokenFile' };
    await withDaemon(
      (s) => ({ ...base, 'token-source': s.tokens('tokens-a', 'only-a') }),
      async (d, s) => {
        const url = (token: string): string => `ws://127.0.0.1:${d.port}/websockify?token=${token}`;
        writeConfig(s.config, { ...base, 'token-source': s.tokens('tokens-b', 'only-b') });
        assert.match(await sighup(d), /configuration reloaded why=SIGHUP file=\S+ workers=2 changed=token-source$/);
        // Round-robin hand-off: connections in a row alternate between the workers.
        for (let i = 0; i < 6; i++) {
          const ws = await openWs(url('only-b'));
          await echoes(ws, `b${i}`);
          ws.close();
          await closed(ws);
        }
        for (let i = 0; i < 4; i++) await assert.rejects(openWs(url('only-a')), /unexpected response 404/);
        await waitFor(() => lines(d, /session closed/).length >= 6, 5_000, 'close lines');
        const served = lines(d, /session closed/);
        assert.ok(
          served.some((l) => / worker=1 /.test(l)) && served.some((l) => / worker=2 /.test(l)),
          'both workers served the new token',
        );

        writeFileSync(s.config, 'workers: [2\n');
        assert.match(
          await sighup(d),
          /ERROR configuration reload refused; the running configuration stays in use why=SIGHUP file=\S+ reason=CONFIG_SYNTAX/,
        );
        assert.equal(lines(d, /configuration reload refused/).length, 1, 'one error line, not one per worker');
        const still = await openWs(url('only-b'));
        await echoes(still, 'still b');
        still.close();
      },
    );
  });
});

describe('POST /reload on the admin listener', () => {
  test('bearer-protected; a new Redis token source: /readyz stays 200, the old source is closed, answers as JSON', async () => {
    const redisA = await startRedis();
    const redisB = await startRedis();
    const adminTokens = ['admin-first-6b1d93', 'admin-second-0c7e52'] as const;
    const base = {
      listen: '127.0.0.1:0',
      'token-plugin': 'TokenRedis',
      'admin-listen': '127.0.0.1:0',
      'max-sessions-per-token': '5',
    };
    const options = (s: Setup, redis: number, admin: number): Record<string, unknown> => {
      const adminFile = join(s.dir, `admin-token-${admin}`);
      writeFileSync(adminFile, `${adminTokens[admin] ?? ''}\n`, { mode: 0o600 });
      return { ...base, 'token-source': `redis://127.0.0.1:${redis}/0`, 'admin-token-file': adminFile };
    };
    // wsproxy's connections to a Redis (CLIENT LIST shows redis-cli's own one too).
    const clientsOf = (port: number): number =>
      redisCli(port, undefined, 'CLIENT', 'LIST').trim().split('\n').length - 1;
    const first = (s: Setup): Record<string, unknown> => {
      const value = JSON.stringify({ host: `127.0.0.1:${s.target.port}` });
      for (const [redis, key] of [
        [redisA, 'only-a'],
        [redisA, 'both'],
        [redisB, 'both'],
        [redisB, 'only-b'],
      ] as const)
        redisCli(redis.port, undefined, 'SET', key, value);
      return options(s, redisA.port, 0);
    };
    try {
      await withDaemon(first, async (d, s) => {
        await waitFor(() => /admin listener admin=\S+/.test(d.stderr()), 5_000, 'admin line');
        const admin = /admin listener admin=(\S+)/.exec(d.stderr())?.[1] ?? '';
        const url = (token: string): string => `ws://127.0.0.1:${d.port}/websockify?token=${token}`;
        await waitFor(() => clientsOf(redisA.port) === 2, 10_000, 'lookup and keyspace connections to Redis A');
        const onA = await openWs(url('only-a'));
        const onBoth = await openWs(url('both'));
        await echoes(onA, 'a');

        assert.equal((await adminRequest(admin, 'POST', '/reload')).status, 401, 'no bearer token');
        writeConfig(s.config, options(s, redisB.port, 0));
        // Readiness polled all through the reload: the new source is connected before it takes over.
        let polling = true;
        const probes: number[] = [];
        const poller = (async () => {
          while (polling) probes.push((await adminRequest(admin, 'GET', '/readyz')).status);
        })();
        const revoked = closed(onA);
        const res = await adminRequest(admin, 'POST', '/reload', adminTokens[0]);
        polling = false;
        await poller;
        assert.equal(res.status, 200, res.body);
        assert.deepEqual(JSON.parse(res.body), { ok: true, changed: ['token-source'], restartNeeded: [] });
        assert.ok(
          probes.length > 0 && probes.every((status) => status === 200),
          `readyz during the reload: ${probes.join(',')}`,
        );
        assert.match(d.stderr(), /configuration reloaded why="POST \/reload" file=\S+ changed=token-source/);

        assert.deepEqual(await revoked, { code: 1008, reason: 'Token revoked' });
        await echoes(await openWs(url('only-b')), 'b');
        await assert.rejects(openWs(url('only-a')), /unexpected response 404/);
        // The session admitted by Redis A holds a slot in A's session count, so A stays open until it ends; then it is
        // closed (no connection left behind).
        await echoes(onBoth, 'still relaying');
        assert.ok(clientsOf(redisA.port) >= 1, 'Redis A still held by the session it admitted');
        onBoth.close();
        await closed(onBoth);
        await waitFor(() => clientsOf(redisA.port) === 0, 10_000, 'Redis A connections closed');

        // A broken file: 422 with the reason code; the admin token rotates with the next good one.
        writeFileSync(s.config, '{ not json');
        const broken = await adminRequest(admin, 'POST', '/reload', adminTokens[0]);
        assert.equal(broken.status, 422);
        const answer = JSON.parse(broken.body) as { ok: boolean; reason: string; error: string; changed: unknown[] };
        assert.equal(answer.ok, false);
        assert.equal(answer.reason, 'CONFIG_SYNTAX');
        assert.match(answer.error, /not valid YAML or JSON/);
        assert.deepEqual(answer.changed, []);
        writeConfig(s.config, options(s, redisB.port, 1));
        const rotated = await adminRequest(admin, 'POST', '/reload', adminTokens[0]);
        assert.deepEqual(JSON.parse(rotated.body), { ok: true, changed: ['admin-token-file'], restartNeeded: [] });
        assert.equal(
          (await adminRequest(admin, 'GET', '/sessions', adminTokens[0])).status,
          401,
          'the old admin token is gone',
        );
        const metrics = await adminRequest(admin, 'GET', '/metrics', adminTokens[1]);
        assert.equal(metrics.status, 200);
        const m = parsePrometheus(metrics.body);
        assert.equal(sampleValue(m, 'wsproxy_config_reloads_total', { result: 'ok' }), 2);
        assert.equal(sampleValue(m, 'wsproxy_config_reloads_total', { result: 'CONFIG_SYNTAX' }), 1);
        assert.equal(sampleValue(m, 'wsproxy_config_last_reload_successful'), 1);
        for (const secret of adminTokens) assert.ok(!d.stderr().includes(secret), 'no admin token in the logs');
      });
    } finally {
      // Redis children would keep this test file's process alive.
      await redisA.stop();
      await redisB.stop();
    }
  });
});
