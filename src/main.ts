#!/usr/bin/env node
/**
 * The process edge: argv → CLI → config → server → listen; signals; one-line fatal errors. The only module that
 * prints directly, exits, or touches process-wide state.
 */
import { createWriteStream, openSync, readFileSync } from 'node:fs';
import { parseCommandLine, helpText, UsageError } from './cli.js';
import { ConfigError, resolveConfig } from './config.js';
import { errnoCode } from './errors.js';
import { createLogger } from './log.js';
import { createServer } from './server.js';

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
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { reason: why, sessions: server.stats().activeSessions });
    server.close().then(
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
  // SIGHUP: reload the TLS files (renewed certificate, new CRL); new handshakes use them, sessions go on.
  process.on('SIGHUP', () => {
    log.info('signal', { signal: 'SIGHUP' });
    server.reloadTls('SIGHUP').catch((err: unknown) => log.error('TLS reload failed', { error: (err as Error).message }));
  });
}

// A bug that escapes every handler: one line (no secrets, no stack unless asked) and a non-zero exit.
process.on('uncaughtException', (err) => {
  process.stderr.write(`wsproxy: internal error: ${err.message}${process.env['WSPROXY_DEBUG'] ? `\n${err.stack ?? ''}` : ''}\n`);
  process.exit(70);
});

main().catch((err: unknown) => fail(`internal error: ${(err as Error).message}`, EXIT_FAILURE));
