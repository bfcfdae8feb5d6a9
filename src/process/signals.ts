/**
 * What the signals do. A process that serves: SIGTERM drains, SIGINT closes, a second one exits at once, SIGHUP
 * reloads. A `workers` primary: SIGINT/SIGTERM stop the workers (a second kills them), SIGHUP reloads them all.
 */
import type { Logger } from '../log.js';
import { EXIT_FAILURE } from './exit.js';
import type { Shutdown } from './shutdown.js';
import { answerReload, isReloadRequest } from './workers.js';

/** SIGINT/SIGTERM for a process that serves. Installed before listening, so a SIGTERM during the start drains too. */
export function stopOnSignals(log: Logger, shutdown: Shutdown, isWorker: boolean): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    if (shutdown.isStopping()) {
      log.warn('second signal: exiting now', { signal });
      process.exit(EXIT_FAILURE);
    }
    log.info('signal', { signal });
    // SIGTERM drains (sessions may finish for `drainTimeout`, then 1001); every other stop closes sessions at once.
    shutdown.stop(signal, signal === 'SIGTERM');
  };
  // A worker stops when the primary says so (it forwards SIGTERM); Ctrl-C reaches the whole process group, and a
  // worker acting on it too would count the primary's SIGTERM as a second signal and exit without draining.
  process.on('SIGINT', isWorker ? () => undefined : onSignal);
  process.on('SIGTERM', onSignal);
}

/**
 * SIGHUP: reload the configuration (the `config` file read again, certificates, token sources); new connections use
 * it, sessions go on. The server logs the outcome. With `workers` the primary asks each worker over IPC instead
 * ({@link reloadOnRequest}) and logs one line for all of them; a SIGHUP sent to a worker itself still reloads it.
 */
export function reloadOnSighup(log: Logger, reload: () => Promise<unknown>): void {
  process.on('SIGHUP', () => {
    log.info('signal', { signal: 'SIGHUP' });
    void reload();
  });
}

/** A worker: the primary's reload request (IPC), answered with the result; the server logs it at debug level. */
export function reloadOnRequest(reloadQuietly: () => Promise<unknown>): void {
  process.on('message', (message: unknown) => {
    if (!isReloadRequest(message)) return;
    void reloadQuietly().then((result) => answerReload(message.seq, result));
  });
}

/** A `workers` primary's SIGINT/SIGTERM. */
export function stopWorkersOnSignals(
  log: Logger,
  workers: number,
  pool: { stop(): void; kill(): void },
  onStopping: () => void,
): () => boolean {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn('second signal: killing the workers', { signal });
      pool.kill();
      return;
    }
    stopping = true;
    log.info('signal: stopping the workers', { signal, workers });
    onStopping();
    pool.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => stopping;
}

/**
 * A `workers` primary's SIGHUP: one reload at a time, none once stopping. `reload` reads the configuration first
 * (a broken file is one line and no worker is asked), then asks each worker over IPC and logs one outcome.
 */
export function reloadWorkersOnSighup(
  log: Logger,
  workers: number,
  reload: () => Promise<void>,
  isStopping: () => boolean,
): void {
  let reloading: Promise<void> = Promise.resolve();
  process.on('SIGHUP', () => {
    if (isStopping()) return;
    log.info('signal: reloading the workers', { signal: 'SIGHUP', workers });
    reloading = reloading.then(reload);
  });
}
