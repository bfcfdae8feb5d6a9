/** `workers` N`: this process forks and supervises the workers and serves nothing itself. */
import type { Config } from '../config/types.js';
import { ReloadError } from '../errors.js';
import type { LogFields, Logger } from '../log.js';
import { combineWorkerResults, logReload, reloadFailed } from '../reload.js';
import { prepareSharedFiles } from '../server/index.js';
import { warnAtStart } from '../startup-warnings.js';
import { isDaemonChild, removePidFile, reportReady } from './daemon.js';
import { EXIT_FAILURE, fail } from './exit.js';
import type { LogOutput } from './log-output.js';
import { notifySystemd } from './sd-notify.js';
import { reloadWorkersOnSighup, stopWorkersOnSignals } from './signals.js';
import { startWorkerPool, type WorkerPool } from './workers.js';
import { flag } from '../config/options/index.js';

export interface PrimaryInputs {
  readonly config: Config;
  readonly notices: readonly string[];
  readonly output: LogOutput;
  readonly pidFile: string | undefined;
  /** Absolute, named in the reload lines. */
  readonly configFile: string | undefined;
  /** Reads the configuration again (throws `ReloadError`). */
  readonly readConfig: () => Config;
}

// Workers drain (`drainTimeout`), then close sessions (`shutdownTimeout`); the primary kills what is left a little
// after that.
const stopTimeoutOf = (c: Config): number => (c.lifecycle?.drainTimeoutMs ?? 0) + c.limits.shutdownTimeoutMs + 5_000;

/** Made once here, so that every worker loads the same certificate instead of racing to make one each. */
async function prepareCertificate(config: Config, log: Logger): Promise<void> {
  try {
    const made = await prepareSharedFiles(config);
    if (made.created)
      log.info(`made a self-signed certificate (no ${flag('cert')} given and no self.pem here)`, { file: made.file });
  } catch (err) {
    fail(`cannot make the self-signed certificate: ${(err as Error).message}`, EXIT_FAILURE);
  }
}

/** One SIGHUP: read the configuration, then every worker reloads and the primary logs one outcome for all. */
async function reloadWorkers(inputs: PrimaryInputs, pool: WorkerPool, log: Logger): Promise<void> {
  const fields: LogFields = { why: 'SIGHUP', ...(inputs.configFile === undefined ? {} : { file: inputs.configFile }) };
  let next: Config;
  try {
    next = inputs.readConfig();
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
    inputs.output.applyLogSettings(next);
    pool.setStopTimeout(stopTimeoutOf(next));
  }
  logReload(log, combined.result, { ...fields, ...combined.fields });
}

/** Waits until every worker listens, then prints their start-up lines once. */
async function announceWhenReady(pool: WorkerPool, log: Logger, count: number): Promise<void> {
  let lines;
  try {
    lines = await pool.ready;
  } catch (code) {
    // The worker printed its one-line reason (to stderr, or the log file under -D).
    fail(
      `a worker could not start (exit ${String(code)})${isDaemonChild() ? `; see ${flag('logFile')}, or run without -D` : ''}`,
      typeof code === 'number' ? code : EXIT_FAILURE,
    );
  }
  for (const line of lines) log.info(line.msg, { ...line.fields, workers: count });
}

export async function runPrimary(inputs: PrimaryInputs): Promise<void> {
  const { config, output } = inputs;
  const log = output.rootLog;
  await prepareCertificate(config, log);
  for (const notice of inputs.notices) log.warn(notice);
  await warnAtStart(config, log);
  const count = config.workers ?? 1;
  const pool = startWorkerPool({ count, log, stopTimeoutMs: stopTimeoutOf(config) });
  const isStopping = stopWorkersOnSignals(log, count, pool, () => void notifySystemd('stopping', process.env, log));
  reloadWorkersOnSighup(log, count, () => reloadWorkers(inputs, pool, log), isStopping);
  await announceWhenReady(pool, log, count);
  void notifySystemd('ready', process.env, log);
  reportReady();
  const code = await pool.exited;
  if (inputs.pidFile !== undefined) removePidFile(inputs.pidFile);
  log.info('stopped');
  await output.syslog?.close();
  process.exit(code);
}
