#!/usr/bin/env node
/**
 * The process edge: argv → CLI → config → server → listen; signals; one-line fatal errors. The only module that
 * prints directly, exits, or touches process-wide state.
 */
import cluster from 'node:cluster';
import { openSync, readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { runCertCommand } from './cert-command.js';
import { configFileOf, parseCommandLine, helpText } from './cli.js';
import { resolveConfig } from './config.js';
import { exitCodeFor, formatFindings, runChecks } from './check.js';
import {
  AdminListenError,
  ConfigError,
  errnoCode,
  ReloadError,
  SetupError,
  UsageError,
  type ReloadReason,
} from './errors.js';
import { createLogger, fdSink, redactUrl, type LogFields, type Logger, type LogSink, type RootLogger } from './log.js';
import { bracketHost } from './net/address.js';
import {
  detach,
  isDaemonChild,
  livePidIn,
  removePidFile,
  reportFailure,
  reportReady,
  writePidFile,
} from './process/daemon.js';
import { notifySystemd } from './process/sd-notify.js';
import { createSyslogSink, type SyslogSink } from './process/syslog.js';
import { writeStdout } from './process/stdout.js';
import { startWrapped, type Wrapped } from './process/wrap.js';
import { answerReload, isReloadRequest, startWorkerPool, reportWorkerReady } from './process/workers.js';
import { combineWorkerResults, logReload, reloadFailed } from './reload.js';
import { createServer } from './server/index.js';
import { prepareSharedFiles } from './tls/upkeep.js';
import type { Config } from './config.js';
import { warnAtStart } from './startup-warnings.js';

const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

// Undone by fail(): a pid file written before a later start step failed.
const cleanups: (() => void)[] = [];

// Log lines and one-line errors share one synchronous, unbuffered writer on fd 2: they keep their order, and no line
// is still queued when an exit path below calls process.exit (syslog, which is not synchronous, is flushed in stop()).
const stderr = fdSink(2);

function fail(message: string, code: number): never {
  for (const cleanup of cleanups.splice(0)) cleanup();
  // Under -D stderr is /dev/null: the waiting parent prints the line instead (no-op when not a daemon child).
  // Redacted like a log line: an error text may quote a URL with a token or password in it.
  const line = `wsproxy: ${redactUrl(message)}`;
  reportFailure(code, line);
  stderr.write(`${line}\n`);
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
        if (ch === '\u0003' || ch === '\u0004')
          return done(new ConfigError('--p12-password-file', 'password entry cancelled'));
        if (ch === '\u007f' || ch === '\b') text = [...text].slice(0, -1).join('');
        else text += ch;
      }
    };
    stdin.on('data', stdinOnData);
  });
}

const SOURCE_REASONS: Record<string, ReloadReason> = {
  unreadable: 'CONFIG_UNREADABLE',
  syntax: 'CONFIG_SYNTAX',
  invalid: 'CONFIG_INVALID',
};

/**
 * The configuration as a reload sees it: the original command line and environment, with the `--config` file read
 * again, through the same parse and validation as at start. A mistake is a `ReloadError` with a stable reason code.
 */
function readConfigAgain(): Config {
  let command;
  try {
    command = parseCommandLine(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof UsageError)
      throw new ReloadError(SOURCE_REASONS[err.source ?? 'invalid'] ?? 'CONFIG_INVALID', err.message);
    throw err;
  }
  if (command.kind !== 'run') throw new ReloadError('CONFIG_INVALID', 'the command line no longer starts a proxy');
  try {
    return resolveConfig(command.args, process.cwd(), process.env, process.stderr.isTTY === true);
  } catch (err) {
    if (err instanceof ConfigError) throw new ReloadError('CONFIG_INVALID', err.message, { flag: err.flag });
    throw err;
  }
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
    writeStdout(helpText() + '\n');
    return;
  }
  if (command.kind === 'version') {
    writeStdout(version() + '\n');
    return;
  }
  if (command.kind === 'cert') {
    try {
      await runCertCommand(command.args, {
        cwd: process.cwd(),
        env: process.env,
        out: (line) => writeStdout(line + '\n'),
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
    writeStdout(formatFindings(findings) + '\n');
    process.exit(exitCodeFor(findings));
  }

  // Process-wide steps (daemon, pid file) belong to the primary; cluster workers skip them.
  const proc = cluster.isWorker
    ? { daemon: false, pidFile: undefined, syslog: config.process?.syslog, wrap: undefined }
    : (config.process ?? { daemon: false });
  if (proc.pidFile !== undefined) {
    const running = livePidIn(proc.pidFile);
    if (running !== undefined)
      fail(
        `--pid-file: ${proc.pidFile} names process ${running}, which is running; stop it first, or remove the file if it is not wsproxy`,
        EXIT_USAGE,
      );
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
      process.stderr.write(
        `${result.message.startsWith('wsproxy: ') ? result.message : `wsproxy: ${result.message}`}\n`,
      );
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
      fail(
        `--pid-file: cannot write ${pidFile} (${errnoCode(err) ?? (err as Error).message}); check the folder exists and is writable`,
        EXIT_USAGE,
      );
    }
    cleanups.push(() => removePidFile(pidFile));
  }

  // Under -D with --log-file, stderr already is the log file (the parent opened it): no second copy.
  const stderrIsLogFile = process.env['WSPROXY_DAEMON_CHILD'] === 'log';
  let sink: LogSink = stderr;
  if (config.log.file !== undefined && !stderrIsLogFile) {
    const file = config.log.file;
    let fd: number;
    try {
      fd = openSync(file, 'a', 0o600);
    } catch (err) {
      fail(
        `--log-file: cannot open ${file} (${errnoCode(err) ?? (err as Error).message}); check the folder exists and is writable`,
        EXIT_USAGE,
      );
    }
    let warned = false;
    const toFile = fdSink(fd, (err) => {
      if (!warned)
        stderr.write(
          `wsproxy: --log-file ${file}: write failed (${errnoCode(err) ?? err.message}); lines may be missing from it\n`,
        );
      warned = true;
    });
    sink = { write: (line: string) => (stderr.write(line), toFile.write(line)) };
  }
  let syslog: SyslogSink | undefined;
  // Every logger a reload's --log-level/--log-format reaches.
  const loggers: RootLogger[] = [];
  if (proc.syslog !== undefined) {
    const plain = sink;
    // Warnings about syslog itself go to stderr/--log-file only, never back into syslog.
    const plainLog = createLogger({ level: config.log.level, format: config.log.format, sink: plain });
    loggers.push(plainLog);
    syslog = createSyslogSink(proc.syslog, { warn: (m) => plainLog.warn(m) });
    const both = syslog;
    sink = {
      write: (line: string) => plain.write(line),
      writeAt: (level, line) => (plain.write(line), both.write(line, level)),
    };
  }
  const rootLog = createLogger({ level: config.log.level, format: config.log.format, sink });
  loggers.push(rootLog);
  const applyLogSettings = (applied: Config): void => {
    for (const l of loggers) l.configure({ level: applied.log.level, format: applied.log.format });
  };
  const named = configFileOf(process.argv.slice(2), process.env);
  // Absolute in the reload lines: the operator reading them may not know the daemon's working directory.
  const configFile = named === undefined ? undefined : resolvePath(process.cwd(), named);
  if ((config.workers ?? 1) > 1 && cluster.isPrimary) {
    await runPrimary(config, rootLog, command.notices, { pidFile, syslog, configFile, applyLogSettings });
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
  // What a reload put in effect; the drain on SIGTERM reads its --drain-timeout.
  let current = config;
  const server = createServer(config, {
    logger: log,
    version: version(),
    readConfig: readConfigAgain,
    configFile,
    onReload: (applied) => {
      current = applied;
      applyLogSettings(applied);
    },
    trafficSink: (chars) => writeStdout(chars),
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
  // SIGTERM drains (sessions may finish for --drain-timeout, then 1001); every other stop closes sessions at once.
  const stop = (why: string, drain = false, status = 0): void => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { reason: why, sessions: server.stats().activeSessions });
    if (!worker) void notifySystemd('stopping', process.env, log);
    (drain ? server.drain(current.lifecycle?.drainTimeoutMs ?? 0) : server.close())
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
  // Handlers first: a SIGTERM that arrives while we start (or right after the listening line) must drain, not kill.
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
  process.on('SIGTERM', onSignal);
  // SIGHUP: reload the configuration (the --config file read again, certificates, token sources); new connections
  // use it, sessions go on. The server logs the outcome. With --workers the primary asks each worker over IPC
  // instead (below) and logs one line for all of them; a SIGHUP sent to a worker itself still reloads that worker.
  process.on('SIGHUP', () => {
    log.info('signal', { signal: 'SIGHUP' });
    void server.reload('SIGHUP');
  });
  if (worker) {
    process.on('message', (message: unknown) => {
      if (!isReloadRequest(message)) return;
      void server.reload('SIGHUP', { quiet: true }).then((result) => answerReload(message.seq, result));
    });
  }
  const where =
    config.listen.kind === 'unix'
      ? `unix:${config.listen.path}`
      : config.listen.kind === 'inetd'
        ? 'inetd socket (fd 0)'
        : `${config.listen.host ?? '*'}:${config.listen.port}`;
  try {
    await server.listen();
  } catch (err) {
    if (err instanceof SetupError) fail(err.message, EXIT_USAGE);
    if (err instanceof AdminListenError && config.admin) {
      const a = config.admin.listen;
      fail(
        `--admin-listen: ${listenHint(err.cause, a.kind === 'unix' ? `unix:${a.path}` : `${a.host}:${a.port}`)}`,
        EXIT_FAILURE,
      );
    }
    fail(listenHint(err, where), EXIT_FAILURE);
  }
  const lines: { msg: string; fields: LogFields }[] = [];
  const cert = server.certificate();
  if (cert)
    lines.push({
      msg: 'certificate',
      fields: { sha256: cert.fingerprint256, names: cert.names.join(','), valid_to: cert.validTo },
    });
  if (server.addresses().length === 0) lines.push({ msg: 'listening', fields: { address: server.listening() } });
  for (const a of server.addresses()) {
    const host = bracketHost(a.address);
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
    await warnAtStart(config, log);
    for (const line of lines) log.info(line.msg, line.fields);
    void notifySystemd('ready', process.env, log);
  }

  const adminAt = server.adminAddress();
  if (adminAt !== undefined)
    log.info('admin listener', { admin: adminAt, auth: config.admin?.token === undefined ? 'none' : 'bearer' });
  if (proc.wrap !== undefined) {
    // websockify starts the wrapped program once it listens; sessions before the program listens get a 502.
    const wrap = proc.wrap;
    wrapped = startWrapped({
      command: wrap.command,
      mode: wrap.mode,
      log,
      onExit: (status) => stop('wrapped program ended', false, status),
    });
  }
  if (!worker) reportReady();
  armIdle();
  if (lifecycle.timeoutMs > 0) {
    setTimeout(() => {
      acceptingStopped = true;
      server.stopAccepting();
      if (active === 0) stop('timeout');
      else log.info('--timeout reached: no new connections; exiting when the sessions end', { sessions: active });
    }, lifecycle.timeoutMs);
  }
}

/** `--workers N`: this process forks and supervises the workers and serves nothing itself. */
async function runPrimary(
  config: Config,
  log: Logger,
  notices: readonly string[],
  own: {
    pidFile: string | undefined;
    syslog: SyslogSink | undefined;
    configFile: string | undefined;
    applyLogSettings: (applied: Config) => void;
  },
): Promise<void> {
  try {
    // Made once here, so that every worker loads the same certificate instead of racing to make one each.
    const made = await prepareSharedFiles(config);
    if (made.created)
      log.info('made a self-signed certificate (no --cert given and no self.pem here)', { file: made.file });
  } catch (err) {
    fail(`cannot make the self-signed certificate: ${(err as Error).message}`, EXIT_FAILURE);
  }
  for (const notice of notices) log.warn(notice);
  await warnAtStart(config, log);
  const count = config.workers ?? 1;
  // Workers drain (--drain-timeout), then close sessions (--shutdown-timeout); the primary kills what is left a
  // little after that.
  const stopTimeoutOf = (c: Config): number => (c.lifecycle?.drainTimeoutMs ?? 0) + c.limits.shutdownTimeoutMs + 5_000;
  const pool = startWorkerPool({ count, log, stopTimeoutMs: stopTimeoutOf(config) });
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
  // SIGHUP: the primary reads the configuration first, so a broken file is one error line and no worker is asked;
  // then every worker reloads (over IPC: one answer each) and the primary logs one outcome for all of them.
  let reloading: Promise<void> = Promise.resolve();
  const reloadWorkers = async (): Promise<void> => {
    const fields: LogFields = { why: 'SIGHUP', ...(own.configFile === undefined ? {} : { file: own.configFile }) };
    let next: Config;
    try {
      next = readConfigAgain();
    } catch (err) {
      const refused =
        err instanceof ReloadError
          ? reloadFailed(err.code, err.message)
          : reloadFailed('CONFIG_INVALID', (err as Error).message);
      logReload(log, refused, fields);
      return;
    }
    const combined = combineWorkerResults(await pool.reload(30_000));
    if (combined.result.ok) {
      own.applyLogSettings(next);
      pool.setStopTimeout(stopTimeoutOf(next));
    }
    logReload(log, combined.result, { ...fields, ...combined.fields });
  };
  process.on('SIGHUP', () => {
    if (stopping) return;
    log.info('signal: reloading the workers', { signal: 'SIGHUP', workers: count });
    reloading = reloading.then(reloadWorkers);
  });
  let lines;
  try {
    lines = await pool.ready;
  } catch (code) {
    // The worker printed its one-line reason (to stderr, or the log file under -D).
    fail(
      `a worker could not start (exit ${String(code)})${isDaemonChild() ? '; see --log-file, or run without -D' : ''}`,
      typeof code === 'number' ? code : EXIT_FAILURE,
    );
  }
  for (const line of lines) log.info(line.msg, { ...line.fields, workers: count });
  void notifySystemd('ready', process.env, log);
  reportReady();
  const code = await pool.exited;
  if (own.pidFile !== undefined) removePidFile(own.pidFile);
  log.info('stopped');
  await own.syslog?.close();
  process.exit(code);
}

// A bug that escapes every handler: one line (no secrets, no stack unless asked) and a non-zero exit.
process.on('uncaughtException', (err) => {
  reportFailure(70, `wsproxy: internal error: ${redactUrl(err.message)}`);
  for (const cleanup of cleanups.splice(0)) cleanup();
  stderr.write(
    `wsproxy: internal error: ${redactUrl(err.message)}${process.env['WSPROXY_DEBUG'] ? `\n${redactUrl(err.stack ?? '')}` : ''}\n`,
  );
  process.exit(70);
});

main().catch((err: unknown) => fail(`internal error: ${(err as Error).message}`, EXIT_FAILURE));
