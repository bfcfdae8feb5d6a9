/**
 * The start steps of `-D` and `pidFile`: refuse a pid file whose process still runs, detach (the parent waits
 * until the daemon listens, then exits), and write the pid file, removed again if a later start step fails.
 */
import type { ProcessConfig } from '../config/types.js';
import { errnoCode } from '../errors.js';
import { detach, isDaemonChild, livePidIn, removePidFile, writePidFile } from './daemon.js';
import { EXIT_FAILURE, EXIT_USAGE, fail, undoOnFailure } from './exit.js';
import { flag } from '../config/options/index.js';

/** The process settings this process acts on: cluster workers leave daemon, pid file and wrap to the primary. */
export function processSettingsFor(settings: ProcessConfig | undefined, isWorker: boolean): ProcessConfig {
  if (isWorker) return { daemon: false, pidFile: undefined, syslog: settings?.syslog, wrap: undefined };
  return settings ?? { daemon: false };
}

function refuseLivePid(pidFile: string): void {
  const running = livePidIn(pidFile);
  if (running !== undefined)
    fail(
      `${flag('pidFile')}: ${pidFile} names process ${running}, which is running; stop it first, or remove the file if it is not wsproxy`,
      EXIT_USAGE,
    );
}

/** -D: start this same command line again, detached, and wait until it listens (or report why it could not). */
async function detachAndExit(logFile: string | undefined): Promise<never> {
  let result;
  try {
    result = await detach([...process.execArgv, ...process.argv.slice(1)], logFile);
  } catch (err) {
    fail(`-D: cannot start the daemon (${errnoCode(err) ?? (err as Error).message})`, EXIT_FAILURE);
  }
  if (!result.ok) {
    process.stderr.write(`${result.message.startsWith('wsproxy: ') ? result.message : `wsproxy: ${result.message}`}\n`);
    process.exit(result.status === 0 ? EXIT_FAILURE : result.status);
  }
  process.exit(0);
}

/**
 * Refuses a live pid file; under -D (in the parent) detaches and exits; then writes the pid file. Written before
 * listening (a bad path is a plain CLI error), removed again if the start fails.
 */
export async function startDaemonAndPidFile(settings: ProcessConfig, logFile: string | undefined): Promise<void> {
  const pidFile = settings.pidFile;
  if (pidFile !== undefined) refuseLivePid(pidFile);
  if (settings.daemon && !isDaemonChild()) await detachAndExit(logFile);
  if (pidFile === undefined) return;
  try {
    writePidFile(pidFile);
  } catch (err) {
    fail(
      `${flag('pidFile')}: cannot write ${pidFile} (${errnoCode(err) ?? (err as Error).message}); check the folder exists and is writable`,
      EXIT_USAGE,
    );
  }
  undoOnFailure(() => removePidFile(pidFile));
}
