// --workers 2: the real CLI with node:cluster. Integrity both ways, close semantics and the backpressure bound hold
// across workers; both workers carry sessions; a dead worker is replaced; SIGHUP reloads all; SIGTERM ends all.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createNetServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import {
  closed,
  openWs,
  spawnDaemon,
  startEchoTarget,
  startFloodTarget,
  startTarget,
  testCertificate,
  waitFor,
  waitForFloodToStop,
  type Daemon,
  type TestTarget,
} from '../../helpers/proxy.js';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Process ids of the daemon's workers (its child processes). */
function childPids(pid: number): number[] {
  let out: string;
  try {
    out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when there are none
  }
  return out
    .split('\n')
    .map((s) => Number(s.trim()))
    .filter((n) => n > 0);
}

/** Sends `size` random bytes in 64 KiB messages through an echo target and checks the echo (SHA-256). */
async function echoRoundTrip(url: string, ca: string, size: number): Promise<void> {
  const ws = await openWs(url, { ca });
  const data = randomBytes(size);
  const got: Buffer[] = [];
  let gotBytes = 0;
  const allIn = new Promise<void>((resolve) => {
    ws.on('message', (d: Buffer) => {
      got.push(d);
      gotBytes += d.length;
      if (gotBytes >= size) resolve();
    });
  });
  for (let off = 0; off < size; off += 64 * 1024) ws.send(data.subarray(off, off + 64 * 1024));
  await allIn;
  assert.equal(sha256(Buffer.concat(got)), sha256(data));
  ws.close(1000);
  await closed(ws);
}

describe('--workers 2', () => {
  let target: TestTarget;
  let daemon: Daemon;
  let ca: string;
  before(async () => {
    const cert = await testCertificate();
    ca = cert.pem;
    target = await startEchoTarget();
    daemon = await spawnDaemon([
      '--workers',
      '2',
      '--cert',
      cert.file,
      '--shutdown-timeout',
      '2',
      `127.0.0.1:0`,
      `127.0.0.1:${target.port}`,
    ]);
  });
  after(async () => {
    await daemon.stop();
    await target.close();
  });

  test('prints its startup lines once, after both workers listen', () => {
    const lines = daemon
      .stderr()
      .split('\n')
      .filter((l) => l.includes(' listening address='));
    assert.equal(lines.length, 1, daemon.stderr());
    assert.match(lines[0] ?? '', /workers=2/);
    assert.equal(childPids(daemon.proc.pid!).length, 2);
  });

  test('8 parallel sessions over ws and wss, 2 MiB each way, arrive intact, and both workers carry them', async () => {
    const runs: Promise<void>[] = [];
    for (let i = 0; i < 8; i++) {
      const scheme = i % 2 === 0 ? 'ws' : 'wss';
      runs.push(echoRoundTrip(`${scheme}://127.0.0.1:${daemon.port}/websockify`, ca, 2 * 1024 * 1024));
    }
    await Promise.all(runs);
    await waitFor(
      () =>
        daemon
          .stderr()
          .split('\n')
          .filter((l) => l.includes('session closed')).length >= 8,
      5_000,
      'close lines',
    );
    const closedLines = daemon
      .stderr()
      .split('\n')
      .filter((l) => l.includes('session closed'));
    assert.ok(
      closedLines.some((l) => / worker=1( |$)/.test(l)),
      'worker 1 served a session',
    );
    assert.ok(
      closedLines.some((l) => / worker=2( |$)/.test(l)),
      'worker 2 served a session',
    );
  });

  test('a worker that dies is replaced, sessions on the other worker go on, and new sessions work', async () => {
    const before = childPids(daemon.proc.pid!);
    assert.equal(before.length, 2);
    const survivor = await openWs(`ws://127.0.0.1:${daemon.port}/websockify`);
    let survivorCode: number | undefined;
    survivor.on('close', (code: number) => (survivorCode = code));
    const victim = before[0]!;
    process.kill(victim, 'SIGKILL');
    await waitFor(() => daemon.stderr().includes('worker died; starting a new one'), 5_000, 'restart log');
    await waitFor(
      () => {
        const now = childPids(daemon.proc.pid!);
        return now.length === 2 && !now.includes(victim);
      },
      10_000,
      'replacement worker',
    );
    await waitFor(() => daemon.stderr().includes('worker listening'), 10_000, 'replacement listening');
    for (let i = 0; i < 4; i++) await echoRoundTrip(`ws://127.0.0.1:${daemon.port}/`, ca, 64 * 1024);
    if (survivor.readyState === WebSocket.OPEN) {
      // The survivor was on the other worker: it still relays.
      survivor.send(Buffer.from('still here'));
      const [echo] = (await once(survivor, 'message')) as [Buffer];
      assert.equal(echo.toString(), 'still here');
      survivor.close(1000);
    } else {
      // It was on the killed worker: it was cut, and that is the only acceptable loss.
      await waitFor(() => survivorCode !== undefined, 5_000, 'survivor close');
      assert.equal(survivorCode, 1006);
    }
  });

  test('SIGHUP reloads every worker, which keep serving; the primary logs one line for all', async () => {
    // Each worker reloads its own configuration and TLS context and answers the primary, which logs the outcome.
    const count = (): number =>
      daemon
        .stderr()
        .split('\n')
        .filter((l) => / configuration reloaded why=SIGHUP workers=2 changed=none/.test(l)).length;
    const seen = count();
    daemon.proc.kill('SIGHUP');
    await waitFor(() => count() === seen + 1, 5_000, 'one reload line for both workers');
    assert.ok(
      !/configuration reloaded worker=/.test(daemon.stderr()),
      'the workers log their part at debug level only',
    );
    await echoRoundTrip(`wss://127.0.0.1:${daemon.port}/`, ca, 64 * 1024);
    assert.equal(childPids(daemon.proc.pid!).length, 2);
  });
});

describe('--workers 2 close semantics and backpressure', () => {
  test('target EOF gives close 1000 "Target closed" after the queued data', async () => {
    const target = await startTarget((socket) => socket.end(Buffer.from('goodbye')));
    const cert = await testCertificate();
    const daemon = await spawnDaemon([
      '--workers',
      '2',
      '--cert',
      cert.file,
      '127.0.0.1:0',
      `127.0.0.1:${target.port}`,
    ]);
    try {
      for (let i = 0; i < 2; i++) {
        const ws = new WebSocket(`ws://127.0.0.1:${daemon.port}/`);
        const messages: string[] = [];
        ws.on('message', (d: Buffer) => messages.push(d.toString()));
        const c = await closed(ws);
        assert.deepEqual(messages, ['goodbye']);
        assert.equal(c.code, 1000);
        assert.equal(c.reason, 'Target closed');
      }
    } finally {
      await daemon.stop();
      await target.close();
    }
  });

  test('a slow client stops a flooding target: the target can write only a bounded amount', async () => {
    const target = await startFloodTarget();
    const cert = await testCertificate();
    const daemon = await spawnDaemon([
      '--workers',
      '2',
      '--cert',
      cert.file,
      '--high-water-mark',
      '64KiB',
      '127.0.0.1:0',
      `127.0.0.1:${target.port}`,
    ]);
    try {
      const ws = await openWs(`ws://127.0.0.1:${daemon.port}/`);
      ws.pause();
      await waitForFloodToStop(target, 15_000);
      // Kernel socket buffers on both hops (a few MiB on loopback) plus the proxy's marks; far below a flood.
      assert.ok(target.written() < 32 * 1024 * 1024, `target wrote ${target.written()} bytes before being stopped`);
      target.stop();
      ws.terminate();
    } finally {
      await daemon.stop();
      await target.close();
    }
  });

  test('SIGTERM stops every worker and the primary exits 0', async () => {
    const target = await startEchoTarget();
    const cert = await testCertificate();
    const daemon = await spawnDaemon([
      '--workers',
      '2',
      '--cert',
      cert.file,
      '127.0.0.1:0',
      `127.0.0.1:${target.port}`,
    ]);
    try {
      const workers = childPids(daemon.proc.pid!);
      assert.equal(workers.length, 2);
      const code = await daemon.stop('SIGTERM');
      assert.equal(code, 0, daemon.stderr());
      for (const pid of workers) assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} is gone`);
    } finally {
      await target.close();
    }
  });

  test('a worker that cannot listen fails the whole start with its one-line reason', async () => {
    const blocker = createNetServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as { port: number }).port;
    const cert = await testCertificate();
    try {
      await assert.rejects(
        spawnDaemon(['--workers', '2', '--cert', cert.file, `127.0.0.1:${port}`, '127.0.0.1:9']),
        (err: Error) => {
          assert.match(err.message, /exited with 1/);
          assert.match(err.message, /the address is in use/);
          assert.doesNotMatch(err.message, /\n\s+at /, 'no stack trace');
          return true;
        },
      );
    } finally {
      blocker.close();
    }
  });

  test('--workers with per-process options, or a bad count, is a one-line usage error', async () => {
    for (const args of [
      ['--workers', '0'],
      ['--workers', 'many'],
      ['--workers', '2', '--run-once'],
      ['--workers', '2', '--idle-timeout', '5'],
    ]) {
      await assert.rejects(spawnDaemon([...args, '127.0.0.1:0', '127.0.0.1:9']), (err: Error) => {
        assert.match(err.message, /exited with 2/);
        assert.match(err.message, /--workers/);
        return true;
      });
    }
  });
});
