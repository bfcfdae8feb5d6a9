/**
 * Serving, from a validated configuration: daemon and pid file, log output, then either the `workers` primary or a
 * process that serves (alone or as a worker, which runs this same sequence).
 */
import cluster from 'node:cluster';
import { resolve as resolvePath } from 'node:path';
import type { Config } from '../config/types.js';
import { DAEMON_ENV } from './daemon.js';
import { processSettingsFor, startDaemonAndPidFile } from './daemon-start.js';
import { openLogOutput } from './log-output.js';
import { runPrimary } from './primary.js';
import { serve } from './serve.js';

export interface RunInputs {
  readonly config: Config;
  /** Warnings the command line gave (said once at start). */
  readonly notices: readonly string[];
  readonly version: string;
  /** Reads the configuration again for a reload (throws `ReloadError`). */
  readonly readConfig: () => Config;
  /** The `config` file as the command line or `WSPROXY_CONFIG` names it. */
  readonly configFile: string | undefined;
}

export async function run(inputs: RunInputs): Promise<void> {
  const { config } = inputs;
  const settings = processSettingsFor(config.process, cluster.isWorker);
  await startDaemonAndPidFile(settings, config.log.file);
  // Under -D with `logFile`, stderr already is the log file (the parent opened it).
  const output = openLogOutput(config.log, settings.syslog, process.env[DAEMON_ENV] === 'log');
  // Absolute in the reload lines: the operator reading them may not know the daemon's working directory.
  const configFile = inputs.configFile === undefined ? undefined : resolvePath(process.cwd(), inputs.configFile);
  const common = { ...inputs, output, pidFile: settings.pidFile, configFile };
  if ((config.workers ?? 1) > 1 && cluster.isPrimary) return runPrimary(common);
  return serve({ ...common, wrap: settings.wrap });
}
