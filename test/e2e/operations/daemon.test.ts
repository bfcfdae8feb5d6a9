// -D/--daemon and --pid-file with the real CLI: the parent returns only once the detached child listens, the pid file
// names a live process that serves WebSocket sessions, SIGTERM ends it and removes the file; failures are one line.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  openWs,
  runCli,
  runCliAsync,
  spawnDaemon,
  startEchoTarget,
  waitFor,
  type CliResult,
} from '../../helpers/proxy.js';

const runAsync = (args: string[]): Promise<CliResult> => runCliAsync(['--log-format', 'text', ...args]);

async function refused(port: number): Promise<boolean> {
  const s = connect(port, '127.0.0.1');
  const result = await new Promise<boolean>((resolve) => {
    s.once('connect', () => resolve(false));
    s.once('error', () => resolve(true));
  });
  s.destroy();
  return result;
}

describe('-D/--daemon and --pid-file', () => {
  test('-D returns once listening; the pid file names the serving daemon; SIGTERM ends it and removes the file', async () => {
    const target = await startEchoTarget();
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-daemon-'));
    const pidFile = join(dir, 'wsproxy.pid');
    const logFile = join(dir, 'wsproxy.log');
    let pid: number | undefined;
    try {
      const r = await runAsync([
        '-D',
        '--pid-file',
        pidFile,
        '--log-file',
        logFile,
        '127.0.0.1:0',
        `127.0.0.1:${target.port}`,
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '', 'the parent prints nothing when all went well');
      // Ready means listening: the pid file and the listening line exist as soon as the parent has returned.
      pid = Number(readFileSync(pidFile, 'utf8').trim());
      assert.ok(pid > 0);
      process.kill(pid, 0); // alive (throws ESRCH otherwise)
      const log = readFileSync(logFile, 'utf8');
      const port = Number(/listening address=127\.0\.0\.1:(\d+)/.exec(log)?.[1]);
      assert.ok(port > 0, log);
      assert.equal(log.match(/listening address=/g)?.length, 1, 'one copy of each line in the log file');

      const ws = await openWs(`ws://127.0.0.1:${port}/websockify`);
      ws.send(Buffer.from('via the daemon'));
      const [data] = (await once(ws, 'message')) as [Buffer];
      assert.equal(data.toString(), 'via the daemon');
      ws.close();
      await once(ws, 'close');

      const again = await runAsync(['-D', '--pid-file', pidFile, '127.0.0.1:0', `127.0.0.1:${target.port}`]);
      assert.equal(again.status, 2);
      assert.equal(again.stderr.trimEnd().split('\n').length, 1, again.stderr);
      assert.match(again.stderr, new RegExp(`^wsproxy: --pid-file: .* names process ${pid}, which is running`));

      process.kill(pid, 'SIGTERM');
      // The daemon is not our child (init reaps it), so watch its traces: the file goes, the port closes.
      await waitFor(() => !existsSync(pidFile), 10_000, 'the pid file to be removed');
      await waitFor(() => /INFO {2}stopped/.test(readFileSync(logFile, 'utf8')), 10_000, 'the stopped line');
      assert.equal(await refused(port), true);
      pid = undefined;
    } finally {
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
      await target.close();
    }
  });

  test("a daemon that cannot start: the parent exits non-zero with the child's one-line error", async () => {
    const busy = await startEchoTarget(); // its port is taken
    try {
      const r = await runAsync(['-D', `127.0.0.1:${busy.port}`, '127.0.0.1:9']);
      assert.equal(r.status, 1);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^wsproxy: cannot listen on .*address is in use/);
    } finally {
      await busy.close();
    }
  });

  test('--pid-file without -D: written atomically with our pid, removed on SIGTERM; a stale file is replaced', async () => {
    const target = await startEchoTarget();
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-pid-'));
    const pidFile = join(dir, 'run.pid');
    // A pid that cannot be running: beyond the kernel's pid_max.
    writeFileSync(pidFile, '99999999\n');
    const d = await spawnDaemon(['--pid-file', pidFile, '127.0.0.1:0', `127.0.0.1:${target.port}`]);
    try {
      assert.equal(readFileSync(pidFile, 'utf8'), `${d.proc.pid}\n`);
      assert.equal(await d.stop('SIGTERM'), 0);
      assert.equal(existsSync(pidFile), false);
    } finally {
      await d.stop('SIGKILL');
      await target.close();
    }
  });

  test('a pid file in a missing folder is a one-line error naming --pid-file', () => {
    const r = runCli(['--pid-file', '/nonexistent/dir/ws.pid', '127.0.0.1:0', '127.0.0.1:9'], { timeoutMs: 10_000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^wsproxy: --pid-file: cannot write \/nonexistent\/dir\/ws.pid \(ENOENT\)/);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  });
});
