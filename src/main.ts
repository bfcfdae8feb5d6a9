#!/usr/bin/env node
/**
 * The process edge: argv → CLI → config → server → listen; signals; one-line fatal errors. The only module that
 * prints directly, exits, or touches process-wide state.
 */
import { createWriteStream, openSync, readFileSync } from 'node:fs';
import { parseCommandLine, helpText, UsageError } from './cli.js';
import { ConfigError, resolveConfig } from './config.js';
import { errnoCode } from './errors.js';
import { createLogger, type LogSink } from './log.js';
import { createServer } from './server.js';
import { detach, isDaemonChild, livePidIn, removePidFile, reportFailure, reportReady, writePidFile } from './process/daemon.js';
import { createSyslogSink, type SyslogSink } from './process/syslog.js';
import { startWrapped, type Wrapped } from './process/wrap.js';

const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

// Undone by fail(): a pid file written before a later start step failed.
const cleanups: (() => void)[] = [];

function fail(message: string, code: number): never {
  for (const cleanup of cleanups.splice(0)) cleanup();
  // Under -D stderr is /dev/null: the waiting parent prints the line instead (no-op when not a daemon child).
  reportFailure(code, `wsproxy: ${message}`);
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

async function main(): Promise<void> {
  let command;
  try {
    command = parseCommandLine(process.argv.slice(2));
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
  let config;
  try {
    config = resolveConfig(command.args, process.cwd(), process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, EXIT_USAGE);
    throw err;
  }

  const proc = config.process ?? { daemon: false };
  if (proc.pidFile !== undefined) {
    const running = livePidIn(proc.pidFile);
    if (running !== undefined) fail(`--pid-file: ${proc.pidFile} names process ${running}, which is running; stop it first, or remove the file if it is not wsproxy`, EXIT_USAGE);
  }
  if (proc.daemon && !isDaemonChild()) {
    // -D: start this same command line again, detached, and wait until it listens (or report why it could not).
    let result;
    try {
      result = await detach([...process.execArgv, ...process.argv.slice(1)], config.log.file);
    } catch (err) {
      fail(`-D: cannot start the daemon (${errnoCode(err) ?? (err as Error).message})`, EXIT_FAILURE);
    }
    if (!result.ok) {
      process.stderr.write(`${result.message.startsWith('wsproxy: ') ? result.message : `wsproxy: ${result.message}`}\n`);
      process.exit(result.status === 0 ? EXIT_FAILURE : result.status);
    }
    process.exit(0);
  }

  // Written before listening (a bad path is a plain CLI error), removed again if the start fails.
  const pidFile = proc.pidFile;
  if (pidFile !== undefined) {
    try {
      writePidFile(pidFile);
    } catch (err) {
      fail(`--pid-file: cannot write ${pidFile} (${errnoCode(err) ?? (err as Error).message}); check the folder exists and is writable`, EXIT_USAGE);
    }
    cleanups.push(() => removePidFile(pidFile));
  }

  // Under -D with --log-file, stderr already is the log file (the parent opened it): no second copy.
  const stderrIsLogFile = process.env['WSPROXY_DAEMON_CHILD'] === 'log';
  let sink: LogSink = process.stderr;
  if (config.log.file !== undefined && !stderrIsLogFile) {
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
  let syslog: SyslogSink | undefined;
  if (proc.syslog !== undefined) {
    const plain = sink;
    // Warnings about syslog itself go to stderr/--log-file only, never back into syslog.
    const plainLog = createLogger({ level: config.log.level, format: config.log.format, sink: plain });
    syslog = createSyslogSink(proc.syslog, { warn: (m) => plainLog.warn(m) });
    const both = syslog;
    sink = { write: (line: string) => plain.write(line), writeAt: (level, line) => (plain.write(line), both.write(line, level)) };
  }
  const log = createLogger({ level: config.log.level, format: config.log.format, sink });
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
  let wrapped: Wrapped | undefined;
  const stop = (why: string, status = 0): void => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { reason: why, sessions: server.stats().activeSessions });
    server
      .close()
      .then(() => wrapped?.stop())
      .then(() => {
        if (pidFile !== undefined) removePidFile(pidFile);
        log.info('stopped', status === 0 ? {} : { status });
        // Let the last lines reach syslog before the process ends (bounded by FLUSH_MS).
        return syslog?.close();
      })
      .then(
        () => process.exit(status),
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
    fail(listenHint(err, where), EXIT_FAILURE);
  }
  const cert = server.certificate();
  if (cert) log.info('certificate', { sha256: cert.fingerprint256, names: cert.names.join(','), valid_to: cert.validTo });
  for (const notice of command.notices) log.warn(notice);
  if (server.addresses().length === 0) log.info('listening', { address: server.listening() });
  for (const a of server.addresses()) {
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    const shown = a.address === '::' || a.address === '0.0.0.0' ? 'localhost' : host;
    log.info('listening', {
      address: `${host}:${a.port}`,
      ws: `ws://${shown}:${a.port}/websockify`,
      wss: server.certificate() ? `wss://${shown}:${a.port}/websockify` : 'off (no certificate)',
      page: `http://${shown}:${a.port}/`,
      target: config.targets.kind === 'demo' ? 'built-in echo (--demo)' : undefined,
    });
  }

  if (proc.wrap !== undefined) {
    // websockify starts the wrapped program once it listens; sessions before the program listens get a 502.
    wrapped = startWrapped({ command: proc.wrap.command, mode: proc.wrap.mode, log, onExit: (status) => stop('wrapped program ended', status) });
  }
  reportReady();

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
    stop(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

// A bug that escapes every handler: one line (no secrets, no stack unless asked) and a non-zero exit.
process.on('uncaughtException', (err) => {
  reportFailure(70, `wsproxy: internal error: ${err.message}`);
  for (const cleanup of cleanups.splice(0)) cleanup();
  process.stderr.write(`wsproxy: internal error: ${err.message}${process.env['WSPROXY_DEBUG'] ? `\n${err.stack ?? ''}` : ''}\n`);
  process.exit(70);
});

main().catch((err: unknown) => fail(`internal error: ${(err as Error).message}`, EXIT_FAILURE));
