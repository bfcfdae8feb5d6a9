// A closed standard output is not an internal error (issue #12, finding 23): with the reader of stdout gone before
// wsproxy writes (as `| head -0` or a `head` that already quit), every command that prints finishes its work and
// exits with its usual status, quietly; a serving proxy with --traffic goes on relaying.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { MAIN_JS, openWs, startEchoTarget, waitFor } from '../../helpers/proxy.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'wsproxy-epipe-'));

interface Run {
  readonly status: number | null;
  readonly stderr: string;
}

/** Runs the CLI with stdout a pipe whose read end is closed at once, so its first write gets EPIPE. */
async function runWithClosedStdout(args: readonly string[], closeStdout = true): Promise<Run> {
  const proc = spawn(process.execPath, [MAIN_JS, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, XDG_STATE_HOME: tmp() },
  });
  if (closeStdout) proc.stdout.destroy();
  else proc.stdout.resume();
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const [status] = (await once(proc, 'exit')) as [number | null];
  return { status, stderr };
}

describe('a closed stdout', () => {
  test('cert init: quiet, exit 0, and the CA and certificate are still made', async () => {
    const dir = join(tmp(), 'ca');
    const r = await runWithClosedStdout(['cert', 'init', '--cert-dir', dir, '--host', 'vnc.example.test']);
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
    assert.ok(existsSync(join(dir, 'ca.crt')) && existsSync(join(dir, 'server.pem')));
    const list = await runWithClosedStdout(['cert', 'list', '--cert-dir', dir]);
    assert.deepEqual(list, { status: 0, stderr: '' });
  });

  for (const args of [['--help'], ['--version']]) {
    test(`${args.join(' ')}: the same status as with a reader, nothing on stderr but what it says anyway`, async () => {
      const open = await runWithClosedStdout(args, false);
      const closed = await runWithClosedStdout(args);
      assert.equal(closed.status, open.status);
      assert.equal(closed.stderr, open.stderr);
      assert.doesNotMatch(closed.stderr, /internal error|EPIPE/);
    });
  }

  test('check: the same exit status as with a reader, no internal error', async () => {
    const target = await startEchoTarget();
    try {
      const args = ['check', '127.0.0.1:0', `127.0.0.1:${target.port}`];
      const open = await runWithClosedStdout(args, false);
      const closed = await runWithClosedStdout(args);
      assert.equal(closed.status, open.status);
      assert.doesNotMatch(closed.stderr, /internal error|EPIPE/);
    } finally {
      await target.close();
    }
  });

  test('serving with --traffic: the proxy goes on relaying', async () => {
    const target = await startEchoTarget();
    const proc = spawn(
      process.execPath,
      [MAIN_JS, '--traffic', '--log-format', 'text', '127.0.0.1:0', `127.0.0.1:${target.port}`],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XDG_STATE_HOME: tmp() } },
    );
    proc.stdout.destroy();
    let err = '';
    proc.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    try {
      await waitFor(() => /listening address=\S+:\d+/.test(err), 10_000, 'listening');
      const port = Number(/listening address=\S+:(\d+)/.exec(err)?.[1]);
      for (let i = 0; i < 2; i++) {
        const ws = await openWs(`ws://127.0.0.1:${port}/websockify`);
        ws.send(Buffer.from(`round ${i}`));
        const [data] = (await once(ws, 'message')) as [Buffer];
        assert.equal(data.toString(), `round ${i}`);
        ws.close();
        await once(ws, 'close');
      }
      assert.equal(proc.exitCode, null, 'still running');
      assert.doesNotMatch(err, /internal error|EPIPE/);
    } finally {
      proc.kill();
      if (proc.exitCode === null) await once(proc, 'exit');
      await target.close();
    }
  });
});
