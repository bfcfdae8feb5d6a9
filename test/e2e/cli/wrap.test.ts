// Wrap mode with real processes: wsproxy starts a small node echo server given after `--`, relays sessions to
// --wrap-target, and acts on its exit per --wrap-mode (exit, ignore, respawn). The command never goes through a shell.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type WebSocket from 'ws';
import { respawnDelayMs, exitStatusOf } from '../../../src/process/wrap.js';
import {
  runCli,
  closed,
  freePort,
  openWs,
  spawnDaemon,
  statusFor,
  upgradeRequest,
  waitFor,
  type Daemon,
} from '../../helpers/proxy.js';

// argv: PORT ARGS_FILE [ARGS...]. Writes ARGS to ARGS_FILE as JSON (to check they arrived literally), echoes every
// byte, exits with status 7 when it receives "exit-now", and announces "echo-ready <pid>" on stderr.
const ECHO_SERVER = `
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
const [port, argsFile, ...rest] = process.argv.slice(2);
writeFileSync(argsFile, JSON.stringify(rest));
const server = createServer((s) => {
  s.on('error', () => {});
  s.on('data', (d) => (d.toString() === 'exit-now' ? process.exit(7) : s.write(d)));
});
server.on('error', (e) => { process.stderr.write('echo-failed ' + e.message + '\\n'); process.exit(3); });
server.listen(Number(port), '127.0.0.1', () => process.stderr.write('echo-ready ' + process.pid + '\\n'));
`;

function fixture(): { dir: string; script: string; argsFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wsproxy-wrap-'));
  const script = join(dir, 'echo-server.mjs');
  writeFileSync(script, ECHO_SERVER);
  return { dir, script, argsFile: join(dir, 'args.json') };
}

/** Pids of the wrapped programs that announced themselves so far. */
function readyPids(d: Daemon): number[] {
  return [...d.stderr().matchAll(/echo-ready (\d+)/g)].map((m) => Number(m[1]));
}

/**
 * wsproxy wrapping the fixture's echo server (`extra` follows its own arguments), resolved once the program has said
 * it listens.
 */
async function startWrapped(
  fx: ReturnType<typeof fixture>,
  mode?: string,
  extra: readonly string[] = [],
): Promise<Daemon> {
  const port = await freePort();
  const d = await spawnDaemon([
    ...(mode === undefined ? [] : ['--wrap-mode', mode]),
    ...['--wrap-target', `127.0.0.1:${port}`, '127.0.0.1:0'],
    ...['--', process.execPath, fx.script, String(port), fx.argsFile, ...extra],
  ]);
  try {
    await waitFor(() => readyPids(d).length === 1, 10_000, 'the wrapped echo server');
  } catch (err) {
    await d.stop('SIGKILL');
    throw err;
  }
  return d;
}

async function echoOnce(port: number, text: string): Promise<WebSocket> {
  const ws = await openWs(`ws://127.0.0.1:${port}/websockify`);
  ws.send(Buffer.from(text));
  const [data] = (await once(ws, 'message')) as [Buffer];
  assert.equal(data.toString(), text);
  return ws;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('wrap mode', () => {
  test('exit (default): relays through the program, passes shell syntax literally, and exits with its status', async () => {
    const fx = fixture();
    const marker = join(fx.dir, 'pwned');
    const tricky = [`a;touch ${marker}`, `$(touch ${marker})`, '`id`', '&&', '\'quoted\' "double"', '*'];
    const d = await startWrapped(fx, undefined, tricky);
    try {
      assert.deepEqual(JSON.parse(readFileSync(fx.argsFile, 'utf8')), tricky);
      assert.equal(existsSync(marker), false, 'nothing may run through a shell');
      const ws = await echoOnce(d.port, 'through the wrapped program');
      const closing = closed(ws);
      ws.send(Buffer.from('exit-now'));
      const [code] = (await once(d.proc, 'exit')) as [number | null];
      assert.equal(code, 7);
      assert.equal((await closing).code, 1000, 'the program closed its side first');
      assert.match(d.stderr(), /wrapped program ended; exiting \(--wrap-mode exit\).* status=7/);
    } finally {
      await d.stop('SIGKILL');
    }
  });

  test('respawn: a killed program is started again and new sessions work; SIGTERM ends wsproxy and the program', async () => {
    const d = await startWrapped(fixture(), 'respawn');
    try {
      const [first] = readyPids(d) as [number];
      const ws = await echoOnce(d.port, 'before');
      const closing = closed(ws);
      process.kill(first, 'SIGKILL');
      assert.ok([1000, 1011].includes((await closing).code), 'the session to the killed program ends');
      await waitFor(() => readyPids(d).length === 2, 10_000, 'the respawned echo server');
      const second = readyPids(d)[1] as number;
      assert.notEqual(second, first);
      assert.match(
        d.stderr(),
        /wrapped program ended; starting it again \(--wrap-mode respawn\).* status=137 signal=SIGKILL/,
      );
      (await echoOnce(d.port, 'after the respawn')).close();
      assert.equal(d.proc.exitCode, null, 'wsproxy kept running');
      assert.equal(await d.stop('SIGTERM'), 0);
      assert.equal(alive(second), false, 'SIGTERM to wsproxy also ended the wrapped program');
    } finally {
      await d.stop('SIGKILL');
    }
  });

  test('ignore: wsproxy keeps serving (502 while the program is gone)', async () => {
    const d = await startWrapped(fixture(), 'ignore');
    try {
      process.kill(readyPids(d)[0] as number, 'SIGTERM');
      await waitFor(
        () => /staying up without it \(--wrap-mode ignore\)/.test(d.stderr()),
        10_000,
        'the ignore log line',
      );
      assert.equal(await statusFor(d.port, upgradeRequest('/websockify')), 502);
      assert.equal(d.proc.exitCode, null);
      assert.equal(readyPids(d).length, 1, 'not restarted');
    } finally {
      assert.equal(await d.stop('SIGTERM'), 0);
    }
  });

  test('a program that cannot be started ends wsproxy with status 127 and one log line', async () => {
    const port = await freePort();
    const r = runCli(
      ['--log-format', 'text', '--wrap-target', `127.0.0.1:${port}`, '127.0.0.1:0', '--', '/nonexistent/program', 'x'],
      { timeoutMs: 10_000 },
    );
    assert.equal(r.status, 127, r.stderr);
    assert.match(r.stderr, /wrapped program could not be started .*error=ENOENT/);
  });

  test('a program without --wrap-target is a one-line CLI error naming the flag', () => {
    const r = runCli(['6080', '--', 'x11vnc', '-rfbport', '5901'], { timeoutMs: 10_000 });
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^wsproxy: wrapping 'x11vnc' needs --wrap-target host:port/);
  });
});

describe('respawn throttling (websockify: the mean of the last three starts must be 10 s old)', () => {
  test('the first restarts are immediate; a third within 10 s waits', () => {
    const t = 1_000_000;
    assert.equal(respawnDelayMs([t], t + 100), 0);
    assert.equal(respawnDelayMs([t, t + 100], t + 200), 0);
    // Three starts at t, t+1 s, t+2 s: mean t+1 s, so the next start waits until t+11 s.
    assert.equal(respawnDelayMs([t, t + 1000, t + 2000], t + 3000), 8000);
    assert.equal(respawnDelayMs([t, t + 1000, t + 2000], t + 11_000), 0);
    // Only the last three count.
    assert.equal(respawnDelayMs([0, 0, t, t + 1000, t + 2000], t + 3000), 8000);
  });
  test('exit statuses as a shell reports them', () => {
    assert.equal(exitStatusOf(3, null), 3);
    assert.equal(exitStatusOf(null, 'SIGTERM'), 143);
    assert.equal(exitStatusOf(null, 'SIGKILL'), 137);
  });
});
