/**
 * A process that serves (alone, or as one `workers` worker): create the server, install the signal handlers, listen,
 * print the start-up lines, start the wrapped program, then run by the lifetime rules until a stop.
 */
import cluster from 'node:cluster';
import type { Config, WrapConfig } from '../config/types.js';
import { AdminListenError, SetupError } from '../errors.js';
import type { Logger } from '../log.js';
import { createServer, type WsProxyServer } from '../server/index.js';
import { warnAtStart } from '../startup-warnings.js';
import { reportReady } from './daemon.js';
import { EXIT_FAILURE, EXIT_USAGE, fail } from './exit.js';
import { createLifetime } from './lifetime.js';
import { listenHint, listenWhere, startupLines } from './listening.js';
import type { PrimaryInputs } from './primary.js';
import { notifySystemd } from './sd-notify.js';
import { createShutdown, type Shutdown } from './shutdown.js';
import { reloadOnRequest, reloadOnSighup, stopOnSignals } from './signals.js';
import { writeStdout } from './stdout.js';
import { reportWorkerReady } from './workers.js';
import { startWrapped } from './wrap.js';
import { flag } from '../config/options/index.js';

export interface ServeInputs extends PrimaryInputs {
  /** Package version shown on the built-in page. */
  readonly version: string;
  readonly wrap: WrapConfig | undefined;
}

/** Binds the listeners; a failure is one line: a usage error for an unusable file, else the listen hint. */
async function listenOrFail(server: WsProxyServer, config: Config): Promise<void> {
  try {
    await server.listen();
  } catch (err) {
    if (err instanceof SetupError) fail(err.message, EXIT_USAGE);
    if (err instanceof AdminListenError && config.admin)
      fail(`${flag('adminListen')}: ${listenHint(err.cause, listenWhere(config.admin.listen))}`, EXIT_FAILURE);
    fail(listenHint(err, listenWhere(config.listen)), EXIT_FAILURE);
  }
}

/** The start-up lines: a worker hands them to the primary, which prints them once for all workers. */
async function announce(server: WsProxyServer, inputs: ServeInputs, log: Logger, isWorker: boolean): Promise<void> {
  const { config } = inputs;
  const lines = startupLines({
    certificate: server.certificate(),
    addresses: server.addresses(),
    listening: server.listening(),
    demo: config.targets.kind === 'demo',
  });
  if (isWorker) {
    log.debug('worker ready', { pid: process.pid });
    reportWorkerReady(lines);
  } else {
    for (const notice of inputs.notices) log.warn(notice);
    await warnAtStart(config, log);
    for (const line of lines) log.info(line.msg, line.fields);
    void notifySystemd('ready', process.env, log);
  }
  const adminAt = server.adminAddress();
  if (adminAt !== undefined)
    log.info('admin listener', { admin: adminAt, auth: config.admin?.token === undefined ? 'none' : 'bearer' });
}

/** websockify starts the wrapped program once it listens; sessions before the program listens get a 502. */
function startWrap(wrap: WrapConfig, log: Logger, shutdown: Shutdown): void {
  shutdown.setWrapped(
    startWrapped({
      command: wrap.command,
      mode: wrap.mode,
      log,
      onExit: (status) => shutdown.stop('wrapped program ended', false, status),
    }),
  );
}

export async function serve(inputs: ServeInputs): Promise<void> {
  const { config, output } = inputs;
  const worker = cluster.isWorker ? cluster.worker : undefined;
  const log = worker ? output.rootLog.child({ worker: worker.id }) : output.rootLog;
  const lifetime = createLifetime(config.lifecycle ?? { runOnce: false, timeoutMs: 0, idleTimeoutMs: 0 }, {
    stop: (why) => shutdown.stop(why),
    stopAccepting: () => server.stopAccepting(),
    waiting: (sessions) =>
      log.info(`${flag('timeout')} reached: no new connections; exiting when the sessions end`, { sessions }),
  });
  // What a reload put in effect; the drain on SIGTERM reads its `drainTimeout`.
  let current = config;
  const server = createServer(config, {
    logger: log,
    version: inputs.version,
    readConfig: inputs.readConfig,
    configFile: inputs.configFile,
    onReload: (applied) => {
      current = applied;
      output.applyLogSettings(applied);
    },
    trafficSink: (chars) => writeStdout(chars),
    onSessionOpen: () => lifetime.sessionOpened(),
    onSessionClosed: () => lifetime.sessionClosed(),
  });
  const shutdown = createShutdown({
    log,
    closeServer: (drain) => (drain ? server.drain(current.lifecycle?.drainTimeoutMs ?? 0) : server.close()),
    activeSessions: () => server.stats().activeSessions,
    isWorker: worker !== undefined,
    pidFile: inputs.pidFile,
    syslog: output.syslog,
  });
  // Handlers first: a SIGTERM that arrives while we start (or right after the listening line) must drain, not kill.
  stopOnSignals(log, shutdown, worker !== undefined);
  reloadOnSighup(log, () => server.reload('SIGHUP'));
  if (worker) reloadOnRequest(() => server.reload('SIGHUP', { quiet: true }));
  await listenOrFail(server, config);
  await announce(server, inputs, log, worker !== undefined);
  if (inputs.wrap !== undefined) startWrap(inputs.wrap, log, shutdown);
  if (!worker) reportReady();
  lifetime.start();
}
