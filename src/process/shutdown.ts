/**
 * Ending a process that serves: close (or drain) the server once, stop the wrapped program, remove the pid file,
 * flush syslog, exit with the status.
 */
import type { Logger } from '../log.js';
import { removePidFile } from './daemon.js';
import { EXIT_FAILURE, fail } from './exit.js';
import { notifySystemd } from './sd-notify.js';
import type { SyslogSink } from './syslog.js';
import type { Wrapped } from './wrap.js';

export interface ShutdownDeps {
  readonly log: Logger;
  /** Closes the server: `drain` lets sessions finish for `drainTimeout` first (SIGTERM). */
  readonly closeServer: (drain: boolean) => Promise<void>;
  readonly activeSessions: () => number;
  /** A cluster worker leaves systemd to the primary. */
  readonly isWorker: boolean;
  readonly pidFile: string | undefined;
  readonly syslog: SyslogSink | undefined;
}

export interface Shutdown {
  /** Starts the shutdown (once; later calls do nothing) and exits with `status` when it is done. */
  stop(why: string, drain?: boolean, status?: number): void;
  isStopping(): boolean;
  /** The wrapped program, stopped after the server (wrap mode starts it once the server listens). */
  setWrapped(wrapped: Wrapped): void;
}

export function createShutdown(deps: ShutdownDeps): Shutdown {
  const { log } = deps;
  let stopping = false;
  let wrapped: Wrapped | undefined;
  return {
    stop(why, drain = false, status = 0) {
      if (stopping) return;
      stopping = true;
      log.info('shutting down', { reason: why, sessions: deps.activeSessions() });
      if (!deps.isWorker) void notifySystemd('stopping', process.env, log);
      deps
        .closeServer(drain)
        .then(() => wrapped?.stop())
        .then(() => {
          if (deps.pidFile !== undefined) removePidFile(deps.pidFile);
          log.info('stopped', status === 0 ? {} : { status });
          // Let the last lines reach syslog before the process ends (bounded by FLUSH_MS).
          return deps.syslog?.close();
        })
        .then(
          () => process.exit(status),
          (err: unknown) => fail(`shutdown failed: ${(err as Error).message}`, EXIT_FAILURE),
        );
    },
    isStopping: () => stopping,
    setWrapped(w) {
      wrapped = w;
    },
  };
}
