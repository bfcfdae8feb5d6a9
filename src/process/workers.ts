/**
 * `workers` N`: one listening address served by N processes through `node:cluster`. The primary holds no client
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
  /** A new deadline for {@link WorkerPool.stop} (a reload changed `drainTimeout` or `shutdownTimeout`). */
  setStopTimeout(ms: number): void;
  /** Process ids of the live workers. */
  pids(): number[];
}

const MAX_RESTART_DELAY_MS = 30_000;

/**
 * How long to wait before replacing a dead worker, given how many died within the crash window (this one included):
 * the first is replaced at once; then `baseMs` (0.5 s), twice that, … up to 30 s. Pure.
 */
export function restartDelayMs(deathsInWindow: number, baseMs: number): number {
  return deathsInWindow <= 1 ? 0 : Math.min(MAX_RESTART_DELAY_MS, baseMs * 2 ** (deathsInWindow - 2));
}

/** Forks the workers. Call only in the cluster primary. */
export function startWorkerPool(options: WorkerPoolOptions): WorkerPool {
  const pool = new Pool(options);
  for (let i = 0; i < options.count; i++) pool.fork();
  // A plain object of bound functions: callers may pass `pool.stop` and friends on as callbacks.
  return {
    ready: pool.ready,
    exited: pool.exited,
    stop: () => pool.stop(),
    kill: () => pool.kill(),
    forward: (signal) => pool.forward(signal),
    reload: (timeoutMs) => pool.reload(timeoutMs),
    setStopTimeout: (ms) => {
      pool.stopTimeoutMs = ms;
    },
    pids: () => pool.pids(),
  };
}

type ReadyLines = WorkerReadyMessage['lines'];

/** The primary's view of its workers: who is live and listening, restarts, stop, and reload answers awaited. */
class Pool {
  readonly ready: Promise<ReadyLines>;
  readonly exited: Promise<number>;
  stopTimeoutMs: number;
  private readonly count: number;
  private readonly log: Logger;
  private readonly restartBaseMs: number;
  private readonly crashWindowMs: number;
  private readonly live = new Map<number, Worker>();
  private readonly readyIds = new Set<number>();
  private deaths: number[] = [];
  private started = false;
  private stopping = false;
  private failedCode: number | undefined;
  private stopTimer: NodeJS.Timeout | undefined;
  private firstLines: ReadyLines | undefined;
  private reloadSeq = 0;
  // Reload answers awaited, by worker id and request number.
  private readonly awaiting = new Map<string, (result: unknown) => void>();
  private resolveReady!: (lines: ReadyLines) => void;
  private rejectReady!: (code: number) => void;
  private resolveExited!: (code: number) => void;

  constructor(options: WorkerPoolOptions) {
    this.count = options.count;
    this.log = options.log;
    this.stopTimeoutMs = options.stopTimeoutMs;
    this.restartBaseMs = options.restartBaseMs ?? 500;
    this.crashWindowMs = options.crashWindowMs ?? 60_000;
    this.ready = new Promise<ReadyLines>((res, rej) => ((this.resolveReady = res), (this.rejectReady = rej)));
    this.exited = new Promise<number>((res) => (this.resolveExited = res));
    // The caller awaits `ready`; this keeps a rejection nobody awaits any more (after stop()) from being "unhandled".
    this.ready.catch(() => undefined);
    // Round-robin hand-off; must be chosen before the first fork.
    cluster.schedulingPolicy = cluster.SCHED_RR;
  }

  fork(): void {
    // Only the primary talks to a waiting `-D` parent; a worker must not take itself for the daemon child.
    const worker = cluster.fork({ [DAEMON_ENV]: '' });
    this.live.set(worker.id, worker);
    // A worker whose IPC channel breaks emits 'error'; the 'exit' below does the bookkeeping.
    worker.on('error', (err: Error) =>
      this.log.warn('worker channel error', { worker: worker.id, error: err.message }),
    );
    worker.on('message', (message: unknown) => this.onMessage(worker, message));
    worker.on('exit', (code: number | null, signal: NodeJS.Signals | null) => this.onExit(worker, code, signal));
  }

  private onMessage(worker: Worker, message: unknown): void {
    if (isReloadReply(message)) {
      this.awaiting.get(`${worker.id}:${message.seq}`)?.(message.result);
      return;
    }
    if (!isReadyMessage(message)) return;
    this.readyIds.add(worker.id);
    this.firstLines ??= message.lines;
    if (!this.started && this.readyIds.size >= this.count) {
      this.started = true;
      this.resolveReady(this.firstLines);
    } else if (this.started) {
      this.log.info('worker listening', { worker: worker.id, pid: worker.process.pid });
    }
  }

  private onExit(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    this.live.delete(worker.id);
    // A reload it will never answer.
    for (const [key, answer] of this.awaiting) if (key.startsWith(`${worker.id}:`)) answer(undefined);
    const wasReady = this.readyIds.delete(worker.id);
    if (this.stopping) this.exitedWhileStopping(code);
    else if (!this.started) this.failStart(code);
    else this.replace(worker, { code, signal, was_listening: wasReady });
  }

  private exitedWhileStopping(code: number | null): void {
    if (code !== 0) this.failedCode ??= code ?? 1;
    if (this.live.size === 0) {
      clearTimeout(this.stopTimer);
      this.resolveExited(this.failedCode ?? 0);
    }
  }

  /**
   * A worker that cannot start (bad certificate, port in use) has printed its one-line reason; the others would fail
   * the same way, so the whole start fails with its exit code.
   */
  private failStart(code: number | null): void {
    this.stopping = true;
    const failed = code === 0 || code === null ? 1 : code;
    this.failedCode = failed;
    this.rejectReady(failed);
    this.killAll('SIGKILL');
    if (this.live.size === 0) this.resolveExited(failed);
  }

  /** A worker died after the start: a new one, later the more often they die. */
  private replace(
    worker: Worker,
    fields: { code: number | null; signal: NodeJS.Signals | null; was_listening: boolean },
  ): void {
    const now = Date.now();
    this.deaths = [...this.deaths.filter((t) => t >= now - this.crashWindowMs), now];
    const delay = restartDelayMs(this.deaths.length, this.restartBaseMs);
    this.log.warn('worker died; starting a new one', {
      worker: worker.id,
      pid: worker.process.pid,
      ...fields,
      restart_in_ms: delay,
    });
    setTimeout(() => {
      if (!this.stopping) this.fork();
    }, delay).unref();
  }

  private killAll(signal: NodeJS.Signals): void {
    for (const worker of this.live.values()) worker.process.kill(signal);
  }

  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    if (!this.started) this.rejectReady(1);
    if (this.live.size === 0) {
      this.resolveExited(this.failedCode ?? 0);
      return;
    }
    this.killAll('SIGTERM');
    this.stopTimer = setTimeout(() => {
      this.log.warn('workers did not stop in time; killing them', { workers: this.live.size });
      this.failedCode ??= 1;
      this.killAll('SIGKILL');
    }, this.stopTimeoutMs);
    this.stopTimer.unref();
  }

  kill(): void {
    this.stopping = true;
    this.failedCode ??= 1;
    this.killAll('SIGKILL');
    if (this.live.size === 0) this.resolveExited(this.failedCode);
  }

  forward(signal: NodeJS.Signals): void {
    this.killAll(signal);
  }

  reload(timeoutMs: number): Promise<{ readonly worker: number; readonly result: unknown }[]> {
    const seq = ++this.reloadSeq;
    const asked = [...this.live.values()].filter((w) => this.readyIds.has(w.id));
    return Promise.all(asked.map((worker) => this.askReload(worker, seq, timeoutMs)));
  }

  /** One worker's reload answer, or `undefined` when none comes within `timeoutMs` (or it dies meanwhile). */
  private askReload(worker: Worker, seq: number, timeoutMs: number): Promise<{ worker: number; result: unknown }> {
    return new Promise((resolve) => {
      const key = `${worker.id}:${seq}`;
      const timer = setTimeout(() => answer(undefined), timeoutMs);
      const answer = (result: unknown): void => {
        clearTimeout(timer);
        this.awaiting.delete(key);
        resolve({ worker: worker.id, result });
      };
      this.awaiting.set(key, answer);
      const request: WorkerReloadRequest = { wsproxy: 'reload', seq };
      try {
        worker.send(request);
      } catch {
        answer(undefined); // its channel is gone; 'exit' follows
      }
    });
  }

  pids(): number[] {
    return [...this.live.values()].map((w) => w.process.pid).filter((pid): pid is number => pid !== undefined);
  }
}
