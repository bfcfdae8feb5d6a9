// Listening and relaying modes from websockify: unix sockets both ends, inetd, text frames, --traffic, --log-file.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type WebSocket from 'ws';
import { MAIN_JS, closed, openWs, startEchoTarget, startProxy, waitFor } from '../../helpers/proxy.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'wsproxy-listen-'));
// Without --cert the daemon makes a certificate in its state dir: keep that in a temp dir.
const daemonEnv = (): NodeJS.ProcessEnv => ({ ...process.env, XDG_STATE_HOME: tmp() });

async function echo(ws: WebSocket, text: string): Promise<string> {
  ws.send(Buffer.from(text));
  const [d] = (await once(ws, 'message')) as [Buffer];
  return d.toString();
}

describe('unix sockets', () => {
  test('--unix-listen with its mode, --unix-target, and a stale socket file replaced', async () => {
    const dir = tmp();
    const targetPath = join(dir, 'target.sock');
    const target = await startEchoTarget(targetPath);
    const listenPath = join(dir, 'proxy.sock');
    // A stale socket file, as a crashed earlier run leaves it (bound, never unlinked).
    execFileSync('python3', [
      '-c',
      `import socket; s=socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(listenPath)})`,
    ]);
    assert.ok(statSync(listenPath).isSocket());
    const proc = spawn(
      process.execPath,
      [
        MAIN_JS,
        '--unix-listen',
        listenPath,
        '--unix-listen-mode',
        '660',
        '--unix-target',
        targetPath,
        '--log-format',
        'text',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: daemonEnv() },
    );
    let err = '';
    proc.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(err)), 10_000);
        proc.stderr.on('data', () => {
          if (err.includes('listening')) {
            clearTimeout(t);
            resolve();
          }
        });
      });
      assert.match(err, new RegExp(`address=unix:${listenPath}`));
      assert.equal(statSync(listenPath).mode & 0o777, 0o660);
      const ws = await openWs(`ws+unix://${listenPath}:/websockify`);
      assert.equal(await echo(ws, 'unix to unix'), 'unix to unix');
      ws.close();
      await closed(ws);
    } finally {
      proc.kill();
      await once(proc, 'exit');
      await target.close();
    }
  });

  test('--unix-listen refuses to delete a file that is not a socket', async () => {
    const dir = tmp();
    const path = join(dir, 'not-a-socket');
    writeFileSync(path, 'keep');
    const proc = spawn(process.execPath, [MAIN_JS, '--unix-listen', path, '127.0.0.1:5900'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    proc.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    const [code] = (await once(proc, 'exit')) as [number];
    assert.equal(code, 1);
    assert.match(err, /is not a socket/);
    assert.equal(readFileSync(path, 'utf8'), 'keep');
  });
});

describe('--inetd', () => {
  test('serves on a listening socket inherited as file descriptor 0', async () => {
    const target = await startEchoTarget();
    const py = [
      'import socket, os, sys',
      's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)',
      'print(s.getsockname()[1], flush=True)',
      'os.dup2(s.fileno(), 0)',
      `os.execv(sys.argv[1], [sys.argv[1], sys.argv[2], "--inetd", "127.0.0.1:${target.port}"])`,
    ].join('\n');
    const proc = spawn('python3', ['-c', py, process.execPath, MAIN_JS], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: daemonEnv(),
    });
    proc.stderr.resume();
    try {
      const [line] = (await once(proc.stdout, 'data')) as [Buffer];
      const port = Number(line.toString().trim());
      let ws: WebSocket | undefined;
      for (let i = 0; i < 50 && !ws; i++) {
        try {
          ws = await openWs(`ws://127.0.0.1:${port}/`);
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      assert.ok(ws, 'connected through the inherited socket');
      assert.equal(await echo(ws, 'inetd'), 'inetd');
      ws.terminate();
    } finally {
      proc.kill();
      await target.close();
    }
  });
});

describe('frames and traces', () => {
  test('--text-frames binary relays the UTF-8 bytes of text frames (websockify#365)', async () => {
    const target = await startEchoTarget();
    const proxy = await startProxy(target.port, { textFrames: 'binary' });
    try {
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/`);
      ws.send('héllo');
      const [d, isBinary] = (await once(ws, 'message')) as [Buffer, boolean];
      assert.equal(isBinary, true);
      assert.equal(d.toString('utf8'), 'héllo');
      ws.terminate();
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('--traffic prints the legend characters; --log-file gets the log lines', async () => {
    const target = await startEchoTarget();
    const dir = tmp();
    const logFile = join(dir, 'wsproxy.log');
    const proc = spawn(
      process.execPath,
      [MAIN_JS, '--traffic', '--log-file', logFile, '--log-format', 'text', '127.0.0.1:0', `127.0.0.1:${target.port}`],
      { stdio: ['ignore', 'pipe', 'pipe'], env: daemonEnv() },
    );
    let out = '';
    let err = '';
    proc.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    proc.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    try {
      const port = await new Promise<number>((resolve) => {
        proc.stderr.on('data', () => {
          const m = /listening address=\S*:(\d+)/.exec(err);
          if (m?.[1]) resolve(Number(m[1]));
        });
      });
      const ws = await openWs(`ws://127.0.0.1:${port}/`);
      assert.equal(await echo(ws, 'trace me'), 'trace me');
      ws.close();
      await closed(ws);
      await waitFor(() => /\}>\{</.test(out), 5_000, 'the --traffic legend on stdout');
      assert.ok(existsSync(logFile));
      assert.equal(statSync(logFile).mode & 0o777, 0o600);
      assert.match(readFileSync(logFile, 'utf8'), /listening address=/);
    } finally {
      proc.kill();
      await once(proc, 'exit');
      await target.close();
    }
  });
});
