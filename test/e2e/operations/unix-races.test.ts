// Unix sockets and the pid file without a race window (issue #12, finding 16). A separate process polls the socket
// paths as tightly as it can while the daemon starts under umask 000: every mode it ever sees must be the final one
// (before the fix the socket existed as 0777 until a chmod after bind). The pid file is written under a random
// temporary name opened with O_EXCL|O_NOFOLLOW: a symlink planted at the old predictable name, or at the pid path,
// is never written through.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { writePidFile } from '../../../src/process/daemon.js';
import { MAIN_JS, waitFor } from '../../helpers/proxy.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'wsproxy-races-'));

// Spins on lstat() until every path exists, then one more second; prints the set of modes seen for each path.
const WATCHER = `
import json, os, stat, sys, time
paths = sys.argv[1:]
seen = {p: set() for p in paths}
print("watching", flush=True)
end = None
while end is None or time.monotonic() < end:
    for p in paths:
        try:
            seen[p].add(stat.S_IMODE(os.lstat(p).st_mode))
        except FileNotFoundError:
            pass
    if end is None and all(seen.values()):
        end = time.monotonic() + 1.0
print(json.dumps({p: sorted(m) for p, m in seen.items()}), flush=True)
`;

/** Starts the watcher on `paths` and resolves once it spins; `result()` waits for its report. */
async function watch(paths: string[]): Promise<{ result: () => Promise<Record<string, number[]>> }> {
  const proc = spawn('python3', ['-c', WATCHER, ...paths], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  await waitFor(() => out.includes('watching'), 10_000, 'watcher');
  return {
    result: async () => {
      if (proc.exitCode === null) await once(proc, 'exit');
      return JSON.parse(out.split('\n')[1] ?? '{}') as Record<string, number[]>;
    },
  };
}

describe('unix sockets are created with their final mode', () => {
  for (let round = 1; round <= 3; round++) {
    test(`--unix-listen (660) and --admin-listen unix: (600) under umask 000, round ${round}`, async () => {
      const dir = tmp();
      const listen = join(dir, 'proxy.sock');
      const admin = join(dir, 'admin.sock');
      const watcher = await watch([listen, admin]);
      const args = [
        MAIN_JS,
        '--log-format',
        'text',
        '--unix-listen',
        listen,
        '--unix-listen-mode',
        '660',
        '--admin-listen',
        `unix:${admin}`,
        '127.0.0.1:9',
      ];
      // umask 000: before the fix, each socket existed as 0777 until its chmod.
      const proc = spawn('sh', ['-c', 'umask 000 && exec "$@"', 'sh', process.execPath, ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, XDG_STATE_HOME: tmp() },
      });
      let err = '';
      proc.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
      try {
        const seen = await watcher.result();
        assert.deepEqual(seen, { [listen]: [0o660], [admin]: [0o600] }, `modes seen (decimal); daemon said: ${err}`);
        await waitFor(() => err.includes('admin listener'), 10_000, 'daemon started');
      } finally {
        proc.kill();
        if (proc.exitCode === null) await once(proc, 'exit');
      }
    });
  }
});

describe('pid file', () => {
  test('a symlink at the old predictable temporary name is not followed', () => {
    const dir = tmp();
    const pidFile = join(dir, 'wsproxy.pid');
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious\n', { mode: 0o644 });
    symlinkSync(victim, `${pidFile}.${process.pid}.tmp`);
    writePidFile(pidFile);
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
    assert.ok(lstatSync(pidFile).isFile(), 'the pid file is a regular file, not a symlink');
    assert.equal(readFileSync(pidFile, 'utf8'), `${process.pid}\n`);
    assert.equal(lstatSync(pidFile).mode & 0o777, 0o644 & ~process.umask());
    // No temporary file is left behind (the planted link stays, untouched).
    assert.deepEqual(readdirSync(dir).sort(), ['victim', 'wsproxy.pid', `wsproxy.pid.${process.pid}.tmp`].sort());
  });

  test('the daemon replaces a symlink planted at the pid path instead of writing through it', async () => {
    const dir = tmp();
    const pidFile = join(dir, 'wsproxy.pid');
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    symlinkSync(victim, pidFile);
    const proc = spawn(
      process.execPath,
      [MAIN_JS, '--log-format', 'text', '--pid-file', pidFile, '127.0.0.1:0', '127.0.0.1:9'],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, XDG_STATE_HOME: tmp() } },
    );
    let err = '';
    proc.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    try {
      await waitFor(() => err.includes('listening'), 10_000, 'daemon listening');
      assert.ok(lstatSync(pidFile).isFile());
      assert.equal(readFileSync(pidFile, 'utf8'), `${proc.pid}\n`);
      assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
    } finally {
      proc.kill();
      if (proc.exitCode === null) await once(proc, 'exit');
    }
  });
});
