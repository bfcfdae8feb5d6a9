/**
 * Test helpers: a real wsproxy (in-process via the library, or the real CLI as a child process), real TCP targets,
 * and raw-socket clients. Everything binds 127.0.0.1 port 0.
 */
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { makeSelfSignedPem } from '../../src/certs/self-signed.js';
import type { Config, Limits } from '../../src/config/types.js';
import { createLogger, type Logger } from '../../src/log.js';
import { createServer, type WsProxyServer } from '../../src/server/index.js';

/** Repository root (tests run from dist/test/helpers). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MAIN_JS = join(REPO_ROOT, 'dist', 'src', 'main.js');

let pemCache: Promise<{ dir: string; file: string; pem: string }> | undefined;

/** A self-signed certificate for localhost/127.0.0.1 in a temp dir, made once per test process. Trust it with `ca:`. */
export function testCertificate(): Promise<{ dir: string; file: string; pem: string }> {
  pemCache ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-test-'));
    const pem = await makeSelfSignedPem({ dns: ['localhost'], ips: ['127.0.0.1', '::1'] }, 2);
    const file = join(dir, 'self.pem');
    writeFileSync(file, pem, { mode: 0o600 });
    return { dir, file, pem };
  })();
  return pemCache;
}

/** Default limits for tests: short deadlines so stalls resolve quickly. */
export const TEST_LIMITS: Limits = {
  handshakeTimeoutMs: 10_000,
  connectTimeoutMs: 5_000,
  maxMessageBytes: 16 * 1024 * 1024,
  maxConnections: 10_000,
  maxConnectionsPerIp: 256,
  highWaterMark: 64 * 1024,
  shutdownTimeoutMs: 2_000,
  heartbeatMs: 0,
};

/** A running in-process proxy and the log lines it wrote. */
export interface TestProxy {
  readonly server: WsProxyServer;
  readonly port: number;
  readonly logs: string[];
  readonly ca: string;
  close(): Promise<void>;
}

/** Config overrides; `limits` is merged with TEST_LIMITS. */
export type ProxyOverrides = Partial<Omit<Config, 'limits' | 'tls'>> & {
  limits?: Partial<Limits>;
  tls?: Partial<Config['tls']>;
};

/** A full Config for a proxy on 127.0.0.1:0 in front of `targetPort`, with the test certificate and TEST_LIMITS. */
export async function proxyConfig(targetPort: number, overrides: ProxyOverrides = {}): Promise<Config> {
  const cert = await testCertificate();
  return {
    listen: { kind: 'tcp', host: '127.0.0.1', port: 0 },
    targets: { kind: 'fixed', target: { kind: 'tcp', host: '127.0.0.1', port: targetPort } },
    webRoot: undefined,
    allowOrigins: [],
    log: { level: 'debug', format: 'text' },
    ...overrides,
    tls: {
      certFile: cert.file,
      certGiven: true,
      keyFile: undefined,
      keyPassword: undefined,
      sslOnly: false,
      generateIfMissing: false,
      stateDir: cert.dir,
      ...overrides.tls,
    },
    limits: { ...TEST_LIMITS, ...overrides.limits },
  };
}

/** A debug-level text logger that keeps its lines in `logs`. */
export function captureLogger(): { logger: Logger; logs: string[] } {
  const logs: string[] = [];
  return {
    logs,
    logger: createLogger({ level: 'debug', format: 'text', sink: { write: (line: string) => logs.push(line) } }),
  };
}

/** Starts an in-process proxy on 127.0.0.1:0 in front of `targetPort`, with the test certificate. */
export async function startProxy(targetPort: number, overrides: ProxyOverrides = {}): Promise<TestProxy> {
  const cert = await testCertificate();
  const config = await proxyConfig(targetPort, overrides);
  const { logger, logs } = captureLogger();
  const server = createServer(config, { logger, version: 'test' });
  await server.listen();
  const port = server.addresses()[0]?.port;
  if (port === undefined) throw new Error('proxy did not bind');
  return { server, port, logs, ca: cert.pem, close: () => server.close() };
}

/** Waits until `check()` is true, polling (for state that has no event, e.g. counters). Fails after `ms`. */
export async function waitFor(check: () => boolean, ms = 5_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A TCP target: records what it receives, runs `onConnection` for each client. */
export interface TestTarget {
  /** The TCP port (0 for a unix socket target). */
  readonly port: number;
  readonly server: Server;
  readonly sockets: Socket[];
  close(): Promise<void>;
}

/**
 * Starts a TCP server on 127.0.0.1:0 (or on the unix socket `path`) calling `onConnection` for each socket (errors are
 * swallowed: tests assert).
 */
export async function startTarget(onConnection: (socket: Socket) => void, path?: string): Promise<TestTarget> {
  const sockets: Socket[] = [];
  const server = createNetServer((socket) => {
    socket.on('error', () => {});
    sockets.push(socket);
    onConnection(socket);
  });
  if (path === undefined) server.listen(0, '127.0.0.1');
  else server.listen(path);
  await once(server, 'listening');
  const port = path === undefined ? (server.address() as AddressInfo).port : 0;
  return {
    port,
    server,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A target that writes 64 KiB chunks as fast as each socket takes them until `stop()`; `written()` counts bytes. */
export async function startFloodTarget(): Promise<TestTarget & { written(): number; stop(): void }> {
  let written = 0;
  let flooding = true;
  const chunk = Buffer.alloc(64 * 1024, 7);
  const target = await startTarget((socket: Socket) => {
    const pump = (): void => {
      while (flooding && socket.writable) {
        written += chunk.length;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
  return { ...target, written: () => written, stop: () => void (flooding = false) };
}

/** Waits until a flood target's byte count stops growing between two polls (kernel buffers and the proxy are full). */
export async function waitForFloodToStop(target: { written(): number }, timeoutMs: number): Promise<void> {
  let last = -1;
  await waitFor(
    () => {
      const stable = target.written() === last && last > 0;
      last = target.written();
      return stable;
    },
    timeoutMs,
    'target writes to stop',
  );
}

/** An echo target on 127.0.0.1:0, or on the unix socket `path`. */
export function startEchoTarget(path?: string): Promise<TestTarget> {
  return startTarget((socket) => socket.pipe(socket), path);
}

/** Opens a WebSocket, sends `text` as one binary message, and resolves the first message back (then cuts it). */
export async function echoOnce(url: string, text: string, options: WebSocket.ClientOptions = {}): Promise<string> {
  const ws = await openWs(url, options);
  ws.send(Buffer.from(text));
  const [d] = (await once(ws, 'message')) as [Buffer];
  ws.terminate();
  return d.toString();
}

/** A port with nothing listening on it (bound, then released). */
export async function freePort(): Promise<number> {
  const s = createNetServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Opens a WebSocket through the proxy; resolves once open (rejects on error/unexpected response). */
export async function openWs(
  url: string,
  options: WebSocket.ClientOptions = {},
  protocols?: string | string[],
): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols, options);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
  });
  return ws;
}

/** Waits for a WebSocket's close; resolves code and reason. */
export async function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  if (ws.readyState === WebSocket.CLOSED) throw new Error('already closed');
  const [code, reason] = (await once(ws, 'close')) as [number, Buffer];
  return { code, reason: reason.toString() };
}

/** A handshake request for a raw socket. */
export function upgradeRequest(path = '/websockify', extra: Record<string, string> = {}, host = '127.0.0.1'): string {
  const headers: Record<string, string> = {
    Host: host,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version': '13',
    ...extra,
  };
  return `GET ${path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n`;
}

/** Sends bytes on a fresh plain or TLS socket and collects everything until the server closes. */
export async function exchange(
  port: number,
  data: string | Buffer,
  options: { tls?: boolean; ca?: string; timeoutMs?: number } = {},
): Promise<string> {
  const socket: Socket = options.tls
    ? tlsConnect({
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      })
    : connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  await once(socket, options.tls ? 'secureConnect' : 'connect');
  socket.write(data);
  const timer = setTimeout(() => socket.destroy(new Error('exchange timed out')), options.timeoutMs ?? 5_000);
  await once(socket, 'close');
  clearTimeout(timer);
  return Buffer.concat(chunks).toString('latin1');
}

/** Parses the status code from a raw HTTP response. */
export function statusOf(response: string): number {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(response);
  return m ? Number(m[1]) : 0;
}

/** What a finished CLI run printed, and its exit status. */
export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Options of {@link runCli}: `env` is added to this process's environment, `unset` names variables to drop. A fresh
 * temporary XDG_STATE_HOME is set unless `keepStateHome` (a test that counts the lines a first start prints).
 */
export interface CliOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly keepStateHome?: boolean;
  readonly unset?: readonly string[];
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

function cliEnv(options: CliOptions): NodeJS.ProcessEnv {
  // Without --cert the daemon makes a certificate in its state dir: keep that out of the real home directory.
  const stateHome = options.keepStateHome ? {} : { XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'wsproxy-xdg-')) };
  const env: NodeJS.ProcessEnv = { ...process.env, ...stateHome, ...options.env };
  for (const name of options.unset ?? []) delete env[name];
  return env;
}

/** Runs `node dist/src/main.js ...args` to its end (stdin closed, so nothing can prompt). */
export function runCli(args: readonly string[], options: CliOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [MAIN_JS, ...args], {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 15_000,
    env: cliEnv(options),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** {@link runCli} without blocking this process (tests that serve something while the CLI runs). */
export function runCliAsync(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [MAIN_JS, ...args],
      {
        encoding: 'utf8',
        timeout: options.timeoutMs ?? 15_000,
        env: cliEnv(options),
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      },
      (_err, stdout, stderr) => resolve({ status: child.exitCode, stdout, stderr }),
    );
  });
}

/** The real CLI as a child process. */
export interface Daemon {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly stderr: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns `node dist/src/main.js ...args` and waits for its "listening" line. */
export async function spawnDaemon(args: readonly string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<Daemon> {
  // Without --cert the daemon makes a certificate in its state dir: keep that out of the real home directory.
  const stateHome = { XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'wsproxy-xdg-')) };
  // Text lines unless the test asks otherwise (stderr is a pipe here, so the default would be JSON). First, so that
  // it never lands after a '--' (wrap mode's program arguments).
  const withFormat = args.includes('--log-format') ? args : ['--log-format', 'text', ...args];
  const proc = spawn(process.execPath, [MAIN_JS, ...withFormat], {
    env: { ...process.env, ...stateHome, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(cwd === undefined ? {} : { cwd }),
  });
  let err = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (s: string) => (err += s));
  proc.stdout.resume();
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL'); // a daemon that never said it listens must not outlive the test
      reject(new Error(`daemon did not start: ${err}`));
    }, 10_000);
    const check = (): void => {
      // Text or JSON (--log-format json) listening line.
      const m = /listening address=\S*:(\d+)|"address":"[^"]*:(\d+)".*"msg":"listening"/.exec(err);
      const port = m?.[1] ?? m?.[2];
      if (port) {
        clearTimeout(timer);
        proc.stderr.off('data', check);
        resolve(Number(port));
      }
    };
    proc.stderr.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code}: ${err}`));
    });
  });
  return {
    proc,
    port,
    stderr: () => err,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      // Already gone (by exit or by a signal): 'exit' will not fire again.
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      const [code] = (await once(proc, 'exit')) as [number | null];
      return code;
    },
  };
}

/**
 * Sends a raw request and resolves the status code of the response head, then drops the connection. With `tls`, over
 * TLS with that SNI name, trusting `ca`.
 */
export async function statusFor(
  port: number,
  request: string,
  tls?: { servername: string; ca: string },
): Promise<number> {
  const socket = tls ? tlsConnect({ host: '127.0.0.1', port, ...tls }) : connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, tls ? 'secureConnect' : 'connect');
  socket.write(request);
  let text = '';
  socket.setEncoding('latin1');
  return new Promise<number>((resolve) => {
    const done = (): void => {
      socket.destroy();
      resolve(statusOf(text));
    };
    socket.on('data', (s: string) => {
      text += s;
      if (text.includes('\r\n\r\n')) done();
    });
    socket.on('close', done);
  });
}

/** A real redis-server on a free loopback port (no persistence). `stop()` kills it; `start()` again reuses the port. */
export async function startRedis(
  password?: string,
): Promise<{ port: number; start(): Promise<void>; stop(): Promise<void> }> {
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      ...(password ? ['--requirepass', password] : []),
    ];
    proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout?.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
      proc?.stdout?.on('data', (s: string) => {
        out += s;
        if (/Ready to accept connections/i.test(out)) {
          clearTimeout(t);
          resolve();
        }
      });
      proc?.once('exit', (code) => reject(new Error(`redis-server exited ${code}: ${out}`)));
    });
    proc.stdout?.resume();
  };
  await start();
  return {
    port,
    start,
    stop: async () => {
      // Already gone (a second stop() after a kill has signalCode set, exitCode still null): 'exit' will not fire again.
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await once(proc, 'exit');
    },
  };
}

/** Runs redis-cli against a test server. */
export function redisCli(port: number, password: string | undefined, ...args: string[]): string {
  return execFileSync(
    'redis-cli',
    ['-p', String(port), ...(password ? ['-a', password, '--no-auth-warning'] : []), ...args],
    { encoding: 'utf8' },
  );
}
