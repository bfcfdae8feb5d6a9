#!/usr/bin/env node
/**
 * The process edge: argv → CLI → config → server → listen; signals; one-line fatal errors. The only module that
 * prints directly, exits, or touches process-wide state.
 */
import cluster from 'node:cluster';
import { createWriteStream, openSync, readFileSync } from 'node:fs';
import { runCertCommand } from './cert-command.js';
import { parseCommandLine, helpText, UsageError } from './cli.js';
import { ConfigError, resolveConfig } from './config.js';
import { exitCodeFor, formatFindings, runChecks } from './check.js';
import { errnoCode } from './errors.js';
import { createLogger, type LogFields, type Logger } from './log.js';
import { notifySystemd } from './process/sd-notify.js';
import { startWorkerPool, reportWorkerReady } from './process/workers.js';
import { createServer, prepareSharedFiles } from './server.js';
import type { Config } from './config.js';

const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function fail(message: string, code: number): never {
  process.stderr.write(`wsproxy: ${message}\n`);
  process.exit(code);
}

function listenHint(err: unknown, where: string): string {
  switch (errnoCode(err)) {
    case 'EADDRINUSE':
      return `cannot listen on ${where}: the address is in use; stop the other program or choose another port`;
    case 'EACCES':
      return `cannot listen on ${where}: permission denied; use a port above 1023 or grant CAP_NET_BIND_SERVICE`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: no interface has that address; check the listen address`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot listen on ${where}: the host name does not resolve`;
    default:
      return `cannot listen on ${where}: ${(err as Error).message}`;
  }
}

/** Reads one line from the terminal without echoing it (the .p12 password of `wsproxy cert user`). */
function askSecret(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let text = '';
    const done = (err?: Error): void => {
      stdin.off('data', stdinOnData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(text);
    };
    const stdinOnData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(new ConfigError('--p12-password-file', 'password entry cancelled'));
        if (ch === '\u007f' || ch === '\b') text = [...text].slice(0, -1).join('');
        else text += ch;
      }
    };
    stdin.on('data', stdinOnData);
  });
}

async function main(): Promise<void> {
  let command;
  try {
    command = parseCommandLine(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof UsageError) fail(err.message, EXIT_USAGE);
    throw err;
  }
  if (command.kind === 'help') {
    process.stdout.write(helpText() + '\n');
    return;
  }
  if (command.kind === 'version') {
    process.stdout.write(version() + '\n');
    return;
  }
  if (command.kind === 'cert') {
    try {
      await runCertCommand(command.args, {
        cwd: process.cwd(),
        env: process.env,
        out: (line) => void process.stdout.write(line + '\n'),
        askSecret: process.stdin.isTTY && process.stderr.isTTY ? askSecret : undefined,
      });
    } catch (err) {
      if (err instanceof ConfigError) fail(err.message, EXIT_USAGE);
      throw err;
    }
    return;
  }
  let config;
  try {
    config = resolveConfig(command.args, process.cwd(), process.env, process.stderr.isTTY === true);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, EXIT_USAGE);
    throw err;
  }

  if (command.kind === 'check') {
    const findings = await runChecks(config);
    process.stdout.write(formatFindings(findings) + '\n');
    process.exit(exitCodeFor(findings));
  }

  let sink: { write(line: string): unknown } = process.stderr;
  if (config.log.file !== undefined) {
    const file = config.log.file;
    let fd: number;
    try {
      fd = openSync(file, 'a', 0o600);
    } catch (err) {
      fail(`--log-file: cannot open ${file} (${errnoCode(err) ?? (err as Error).message}); check the folder exists and is writable`, EXIT_USAGE);
    }
    const stream = createWriteStream(file, { fd });
    stream.on('error', (err) => process.stderr.write(`wsproxy: log file write failed: ${err.message}\n`));
    sink = { write: (line: string) => (process.stderr.write(line), stream.write(line)) };
  }
  const rootLog = createLogger({ level: config.log.level, format: config.log.format, sink });
  if ((config.workers ?? 1) > 1 && cluster.isPrimary) {
    await runPrimary(config, rootLog, command.notices);
    return;
  }
  const worker = cluster.isWorker ? cluster.worker : undefined;
  const log = worker ? rootLog.child({ worker: worker.id }) : rootLog;
  // websockify's process lifetime rules: --run-once, --timeout (stop accepting, exit when idle), --idle-timeout.
  const lifecycle = config.lifecycle ?? { runOnce: false, timeoutMs: 0, idleTimeoutMs: 0 };
  let active = 0;
  let acceptingStopped = false;
  let idleTimer: NodeJS.Timeout | undefined;
  const armIdle = (): void => {
    clearTimeout(idleTimer);
    if (lifecycle.idleTimeoutMs > 0 && active === 0) {
      idleTimer = setTimeout(() => stop('idle-timeout'), lifecycle.idleTimeoutMs);
    }
  };
  const server = createServer(config, {
    logger: log,
    version: version(),
    trafficSink: (chars) => void process.stdout.write(chars),
    onSessionOpen: () => {
      active++;
      clearTimeout(idleTimer);
    },
    onSessionClosed: () => {
      active--;
      if (lifecycle.runOnce) stop('run-once');
      else if (acceptingStopped && active === 0) stop('timeout');
      else armIdle();
    },
  });
  let stopping = false;
  // SIGTERM drains (sessions may finish for --drain-timeout, then 1001); every other stop closes sessions at once.
  const stop = (why: string, drain = false): void => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { reason: why, sessions: server.stats().activeSessions });
    if (!worker) void notifySystemd('stopping', process.env, log);
    (drain ? server.drain(lifecycle.drainTimeoutMs ?? 0) : server.close()).then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => fail(`shutdown failed: ${(err as Error).message}`, EXIT_FAILURE),
    );
  };
  const where =
    config.listen.kind === 'unix' ? `unix:${config.listen.path}`
    : config.listen.kind === 'inetd' ? 'inetd socket (fd 0)'
    : `${config.listen.host ?? '*'}:${config.listen.port}`;
  try {
    await server.listen();
  } catch (err) {
    if (errnoCode(err) === 'ECONFIG') fail((err as Error).message, EXIT_USAGE);
    if ((err as { admin?: boolean }).admin && config.admin) {
      const a = config.admin.listen;
      fail(`--admin-listen: ${listenHint(err, a.kind === 'unix' ? `unix:${a.path}` : `${a.host}:${a.port}`)}`, EXIT_FAILURE);
    }
    fail(listenHint(err, where), EXIT_FAILURE);
  }
  const lines: { msg: string; fields: LogFields }[] = [];
  const cert = server.certificate();
  if (cert) lines.push({ msg: 'certificate', fields: { sha256: cert.fingerprint256, names: cert.names.join(','), valid_to: cert.validTo } });
  if (server.addresses().length === 0) lines.push({ msg: 'listening', fields: { address: server.listening() } });
  for (const a of server.addresses()) {
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    const shown = a.address === '::' || a.address === '0.0.0.0' ? 'localhost' : host;
    lines.push({
      msg: 'listening',
      fields: {
        address: `${host}:${a.port}`,
        ws: `ws://${shown}:${a.port}/websockify`,
        wss: server.certificate() ? `wss://${shown}:${a.port}/websockify` : 'off (no certificate)',
        page: `http://${shown}:${a.port}/`,
        target: config.targets.kind === 'demo' ? 'built-in echo (--demo)' : undefined,
      },
    });
  }
  if (worker) {
    // The primary prints the startup lines once for all workers.
    log.debug('worker ready', { pid: process.pid });
    reportWorkerReady(lines);
  } else {
    for (const notice of command.notices) log.warn(notice);
    for (const line of lines) log.info(line.msg, line.fields);
    void notifySystemd('ready', process.env, log);
  }

  const adminAt = server.adminAddress();
  if (adminAt !== undefined) log.info('admin listener', { admin: adminAt, auth: config.admin?.token === undefined ? 'none' : 'bearer' });
  armIdle();
  if (lifecycle.timeoutMs > 0) {
    setTimeout(() => {
      acceptingStopped = true;
      server.stopAccepting();
      if (active === 0) stop('timeout');
      else log.info('--timeout reached: no new connections; exiting when the sessions end', { sessions: active });
    }, lifecycle.timeoutMs);
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn('second signal: exiting now', { signal });
      process.exit(EXIT_FAILURE);
    }
    log.info('signal', { signal });
    stop(signal, signal === 'SIGTERM');
  };
  // A worker stops when the primary says so (it forwards SIGTERM); Ctrl-C reaches the whole process group, and a
  // worker acting on it too would count the primary's SIGTERM as a second signal and exit without draining.
  process.on('SIGINT', worker ? () => undefined : onSignal);
  // The primary passes SIGHUP on to every worker; without a listener it would end the worker.
  if (worker) process.on('SIGHUP', () => log.info('SIGHUP: token files are watched already; nothing else to reload'));
  process.on('SIGTERM', onSignal);
}

/** `--workers N`: this process forks and supervises the workers and serves nothing itself. */
async function runPrimary(config: Config, log: Logger, notices: readonly string[]): Promise<void> {
  try {
    await prepareSharedFiles(config, log);
  } catch (err) {
    fail(`cannot make the demo certificate: ${(err as Error).message}`, EXIT_FAILURE);
  }
  for (const notice of notices) log.warn(notice);
  const count = config.workers ?? 1;
  // Workers drain (--drain-timeout), then close sessions (--shutdown-timeout); the primary kills what is left a
  // little after that.
  const drainMs = config.lifecycle?.drainTimeoutMs ?? 0;
  const pool = startWorkerPool({ count, log, stopTimeoutMs: drainMs + config.limits.shutdownTimeoutMs + 5_000 });
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn('second signal: killing the workers', { signal });
      pool.kill();
      return;
    }
    stopping = true;
    log.info('signal: stopping the workers', { signal, workers: count });
    void notifySystemd('stopping', process.env, log);
    pool.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', () => {
    log.info('signal: passing SIGHUP to the workers', { workers: count });
    pool.forward('SIGHUP');
  });
  let lines;
  try {
    lines = await pool.ready;
  } catch (code) {
    process.exit(typeof code === 'number' ? code : EXIT_FAILURE);
  }
  for (const line of lines) log.info(line.msg, { ...line.fields, workers: count });
  void notifySystemd('ready', process.env, log);
  const code = await pool.exited;
  log.info('stopped');
  process.exit(code);
}

// A bug that escapes every handler: one line (no secrets, no stack unless asked) and a non-zero exit.
process.on('uncaughtException', (err) => {
  process.stderr.write(`wsproxy: internal error: ${err.message}${process.env['WSPROXY_DEBUG'] ? `\n${err.stack ?? ''}` : ''}\n`);
  process.exit(70);
});

main().catch((err: unknown) => fail(`internal error: ${(err as Error).message}`, EXIT_FAILURE));
