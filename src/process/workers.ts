/**
 * `--workers N`: one listening address served by N processes through `node:cluster`. The primary holds no client
 * connections. It forks the workers, waits until each one reports that it is listening, replaces a worker that dies
 * (with a growing delay when they keep dying, so a crash loop does not spin a core), forwards signals, asks every
 * worker to reload its configuration over IPC (one answer each, so the primary can log one outcome), and reports when
 * the last one has gone. Every worker runs the same command line, so config, token sources and plugins are per
 * worker, and so are the connection limits (documented in the README).
 *
 * Node 20 has no `reusePort` for `net.Server`, so the cluster module shares the listening socket: on Linux the
 * primary accepts and hands connections to the workers in turn (round-robin), which spreads long-lived relay sessions
 * evenly; the kernel's own distribution (`SCHED_NONE`) tends to pile them onto one worker.
 */
import cluster, { type Worker } from 'node:cluster';
import type { LogFields, Logger } from '../log.js';
import { DAEMON_ENV } from './daemon.js';

/** What a worker sends the primary once its listeners are open: the log lines the primary prints once for all. */
export interface WorkerReadyMessage {
  readonly wsproxy: 'ready';
  readonly lines: readonly { readonly msg: string; readonly fields: LogFields }[];
}

/** Tells whether an IPC message is a {@link WorkerReadyMessage}. */
export function isReadyMessage(message: unknown): message is WorkerReadyMessage {
  return typeof message === 'object' && message !== null && (message as { wsproxy?: unknown }).wsproxy === 'ready';
}

/** Sends the primary the ready message (a no-op outside a cluster worker). */
export function reportWorkerReady(lines: WorkerReadyMessage['lines']): void {
  const message: WorkerReadyMessage = { wsproxy: 'ready', lines };
  process.send?.(message);
}

/** The primary asks a worker (IPC) to reload its configuration and answer with a {@link WorkerReloadReply}. */
export interface WorkerReloadRequest {
  readonly wsproxy: 'reload';
  readonly seq: number;
}

/** A worker's answer to a {@link WorkerReloadRequest}: the reload result as the server gave it. */
export interface WorkerReloadReply {
  readonly wsproxy: 'reloaded';
  readonly seq: number;
  readonly result: unknown;
}

/** Tells whether an IPC message is a {@link WorkerReloadRequest}. */
export function isReloadRequest(message: unknown): message is WorkerReloadRequest {
  return typeof message === 'object' && message !== null && (message as { wsproxy?: unknown }).wsproxy === 'reload';
}

function isReloadReply(message: unknown): message is WorkerReloadReply {
  return typeof message === 'object' && message !== null && (message as { wsproxy?: unknown }).wsproxy === 'reloaded';
}

/** Sends the primary a worker's reload result (a no-op outside a cluster worker). */
export function answerReload(seq: number, result: unknown): void {
  const message: WorkerReloadReply = { wsproxy: 'reloaded', seq, result };
  process.send?.(message);
}

/** Options for {@link startWorkerPool}. */
export interface WorkerPoolOptions {
  readonly count: number;
  readonly log: Logger;
  /** How long `stop()` lets the workers drain before they are killed (their own shutdown timeout plus slack). */
  readonly stopTimeoutMs: number;
  /** Restart delays grow from this base while workers keep dying within {@link WorkerPoolOptions.crashWindowMs}. */
  readonly restartBaseMs?: number;
  readonly crashWindowMs?: number;
}

/** A running pool. */
export interface WorkerPool {
  /** Resolves with the first worker's startup lines once every worker listens; rejects with an exit code if one fails first. */
  readonly ready: Promise<WorkerReadyMessage['lines']>;
  /** Resolves with the exit code for the primary once every worker has gone after {@link WorkerPool.stop}. */
  readonly exited: Promise<number>;
  /** Asks every worker to finish (SIGTERM: they drain their sessions); no more restarts. */
  stop(): void;
  /** Ends every worker now (SIGKILL). */
  kill(): void;
  /** Passes a signal on to every worker. */
  forward(signal: NodeJS.Signals): void;
  /**
   * Asks every listening worker to reload its configuration; resolves with each worker's result, or `undefined` for
   * one that did not answer within `timeoutMs` (or died meanwhile).
   */
  reload(timeoutMs: number): Promise<{ readonly worker: number; readonly result: unknown }[]>;
  /** A new deadline for {@link WorkerPool.stop} (a reload changed --drain-timeout or --shutdown-timeout). */
  setStopTimeout(ms: number): void;
  /** Process ids of the live workers. */
  pids(): number[];
}

const MAX_RESTART_DELAY_MS = 30_000;

/** Forks the workers. Call only in the cluster primary. */
export function startWorkerPool(options: WorkerPoolOptions): WorkerPool {
  const { count, log } = options;
  const restartBaseMs = options.restartBaseMs ?? 500;
  const crashWindowMs = options.crashWindowMs ?? 60_000;
  // Round-robin hand-off; must be chosen before the first fork.
  cluster.schedulingPolicy = cluster.SCHED_RR;

  const live = new Map<number, Worker>();
  const readyIds = new Set<number>();
  const deaths: number[] = [];
  let started = false;
  let stopping = false;
  let failedCode: number | undefined;
  let stopTimer: NodeJS.Timeout | undefined;
  let resolveReady!: (lines: WorkerReadyMessage['lines']) => void;
  let rejectReady!: (code: number) => void;
  let resolveExited!: (code: number) => void;
  const ready = new Promise<WorkerReadyMessage['lines']>((res, rej) => ((resolveReady = res), (rejectReady = rej)));
  const exited = new Promise<number>((res) => (resolveExited = res));
  // The caller awaits `ready`; this keeps a rejection nobody awaits any more (after stop()) from being "unhandled".
  ready.catch(() => undefined);
  let firstLines: WorkerReadyMessage['lines'] | undefined;
  let stopTimeoutMs = options.stopTimeoutMs;
  let reloadSeq = 0;
  // Reload answers awaited, by worker id and request number.
  const awaiting = new Map<string, (result: unknown) => void>();

  const fork = (): void => {
    // Only the primary talks to a waiting `-D` parent; a worker must not take itself for the daemon child.
    const worker = cluster.fork({ [DAEMON_ENV]: '' });
    live.set(worker.id, worker);
    // A worker whose IPC channel breaks emits 'error'; the 'exit' below does the bookkeeping.
    worker.on('error', (err: Error) => log.warn('worker channel error', { worker: worker.id, error: err.message }));
    worker.on('message', (message: unknown) => workerOnMessage(worker, message));
    worker.on('exit', (code: number | null, signal: NodeJS.Signals | null) => workerOnExit(worker, code, signal));
  };

  const workerOnMessage = (worker: Worker, message: unknown): void => {
    if (isReloadReply(message)) {
      awaiting.get(`${worker.id}:${message.seq}`)?.(message.result);
      return;
    }
    if (!isReadyMessage(message)) return;
    readyIds.add(worker.id);
    firstLines ??= message.lines;
    if (!started && readyIds.size >= count) {
      started = true;
      resolveReady(firstLines);
    } else if (started) {
      log.info('worker listening', { worker: worker.id, pid: worker.process.pid });
    }
  };

  const workerOnExit = (worker: Worker, code: number | null, signal: NodeJS.Signals | null): void => {
    live.delete(worker.id);
    // A reload it will never answer.
    for (const [key, answer] of awaiting) if (key.startsWith(`${worker.id}:`)) answer(undefined);
    const wasReady = readyIds.delete(worker.id);
    if (stopping) {
      if (code !== 0) failedCode ??= code ?? 1;
      if (live.size === 0) {
        clearTimeout(stopTimer);
        resolveExited(failedCode ?? 0);
      }
      return;
    }
    if (!started) {
      // A worker that cannot start (bad certificate, port in use) has printed its one-line reason; the others would
      // fail the same way, so the whole start fails with its exit code.
      stopping = true;
      failedCode = code === 0 || code === null ? 1 : code;
      rejectReady(failedCode);
      for (const other of live.values()) other.process.kill('SIGKILL');
      if (live.size === 0) resolveExited(failedCode);
      return;
    }
    const now = Date.now();
    deaths.push(now);
    while (deaths.length > 0 && deaths[0]! < now - crashWindowMs) deaths.shift();
    // First death in the window: replace at once; then 0.5 s, 1 s, 2 s … up to 30 s.
    const delay = deaths.length <= 1 ? 0 : Math.min(MAX_RESTART_DELAY_MS, restartBaseMs * 2 ** (deaths.length - 2));
    log.warn('worker died; starting a new one', {
      worker: worker.id,
      pid: worker.process.pid,
      code,
      signal,
      was_listening: wasReady,
      restart_in_ms: delay,
    });
    setTimeout(() => {
      if (!stopping) fork();
    }, delay).unref();
  };

  for (let i = 0; i < count; i++) fork();

  return {
    ready,
    exited,
    stop() {
      if (stopping) return;
      stopping = true;
      if (!started) rejectReady(1);
      if (live.size === 0) {
        resolveExited(failedCode ?? 0);
        return;
      }
      for (const worker of live.values()) worker.process.kill('SIGTERM');
      stopTimer = setTimeout(() => {
        log.warn('workers did not stop in time; killing them', { workers: live.size });
        failedCode ??= 1;
        for (const worker of live.values()) worker.process.kill('SIGKILL');
      }, stopTimeoutMs);
      stopTimer.unref();
    },
    kill() {
      stopping = true;
      failedCode ??= 1;
      for (const worker of live.values()) worker.process.kill('SIGKILL');
      if (live.size === 0) resolveExited(failedCode);
    },
    forward(signal) {
      for (const worker of live.values()) worker.process.kill(signal);
    },
    reload(timeoutMs) {
      const seq = ++reloadSeq;
      const asked = [...live.values()].filter((w) => readyIds.has(w.id));
      return Promise.all(
        asked.map(
          (worker) =>
            new Promise<{ worker: number; result: unknown }>((resolve) => {
              const key = `${worker.id}:${seq}`;
              const timer = setTimeout(() => answer(undefined), timeoutMs);
              const answer = (result: unknown): void => {
                clearTimeout(timer);
                awaiting.delete(key);
                resolve({ worker: worker.id, result });
              };
              awaiting.set(key, answer);
              const request: WorkerReloadRequest = { wsproxy: 'reload', seq };
              try {
                worker.send(request);
              } catch {
                answer(undefined); // its channel is gone; 'exit' follows
              }
            }),
        ),
      );
    },
    setStopTimeout(ms) {
      stopTimeoutMs = ms;
    },
    pids() {
      return [...live.values()].map((w) => w.process.pid).filter((pid): pid is number => pid !== undefined);
    },
  };
}
