/**
 * Wrap mode (`wsproxy [opts] PORT -- COMMAND ARGS...`): start a program, watch it, and act as websockify's
 * `wrapMode` says when it exits: `exit` (wsproxy exits with its code), `ignore`, or `respawn`, throttled exactly as
 * websockify throttles it (a new start only when the mean of the last three start times is at least 10 s ago).
 * The program is started with `spawn` and an argument vector, never through a shell, so `;`, `$(...)` and quotes in
 * arguments reach it literally, and without wsproxy's `WSPROXY_*` variables. Used only by the process edge (main.ts and
 * process/).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { WrapMode } from '../config/types.js';
import type { Logger } from '../log.js';
import { flag } from '../config/options/index.js';

/** websockify keeps the last three start times and waits until their mean is 10 s old (`websocketproxy.py` poll()). */
export const RESPAWN_WINDOW_MS = 10_000;
const KEPT_STARTS = 3;

/**
 * How long to wait before the next respawn, given the recent start times (ms since the epoch, oldest first; missing
 * entries count as 0 as in websockify's `wrap_times = [0, 0, 0]`). 0 means start now.
 */
export function respawnDelayMs(startTimes: readonly number[], now: number): number {
  const recent = [...Array<number>(KEPT_STARTS).fill(0), ...startTimes].slice(-KEPT_STARTS);
  const mean = recent.reduce((a, b) => a + b, 0) / KEPT_STARTS;
  return Math.max(0, Math.ceil(mean + RESPAWN_WINDOW_MS - now));
}

/** The exit status a shell would report: the code, or 128 + signal number for a signal. */
export function exitStatusOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal === null ? undefined : constants.signals[signal];
  return n === undefined ? 1 : 128 + n;
}

/**
 * The wrapped program's environment: wsproxy's own, without every `WSPROXY_*` variable. Those configure wsproxy and
 * include its secrets (`WSPROXY_KEY_PASSWORD`, `WSPROXY_AUTH_SOURCE`, a `WSPROXY_TOKEN_SOURCE` Redis URL with its
 * password, `WSPROXY_P12_PASSWORD`, ...); the program needs none of them, and a blanket rule can't miss a new one.
 */
export function wrappedEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.toUpperCase().startsWith('WSPROXY_')));
}

/** Options for {@link startWrapped}. */
export interface WrapOptions {
  readonly command: readonly [string, ...string[]];
  readonly mode: WrapMode;
  readonly log: Logger;
  /** Called once in `exit` mode when the program ends (or cannot be started), with the status to exit with. */
  readonly onExit: (status: number) => void;
  /** How long `stop()` waits after SIGTERM before SIGKILL. */
  readonly killAfterMs?: number;
}

/** A supervised program. */
export interface Wrapped {
  /** The running child's pid, if one is running. */
  pid(): number | undefined;
  /** Stops supervising: SIGTERM to the program (SIGKILL after a grace period); resolves when it is gone. */
  stop(): Promise<void>;
}

/** Starts the program now and supervises it per `mode`. */
export function startWrapped(options: WrapOptions): Wrapped {
  const [program, ...args] = options.command;
  const log = options.log.child({ wrapped: program });
  const starts: number[] = [];
  let child: ChildProcess | undefined;
  let stopped = false;
  let respawnTimer: NodeJS.Timeout | undefined;

  const start = (): void => {
    starts.push(Date.now());
    if (starts.length > KEPT_STARTS) starts.shift();
    // stdio inherited, like websockify's Popen: the program's own output lands next to wsproxy's (or in /dev/null
    // under -D). No shell: the argument vector goes to execve as it is.
    const proc = spawn(program, args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      shell: false,
      env: wrappedEnv(process.env),
    });
    child = proc;
    let reported = false;
    const ended = (status: number, how: Record<string, unknown>): void => {
      if (reported) return;
      reported = true;
      if (child === proc) child = undefined;
      if (stopped) return;
      if (options.mode === 'exit') {
        log.info(`wrapped program ended; exiting (${flag('wrapMode')} exit)`, { status, ...how });
        options.onExit(status);
      } else if (options.mode === 'ignore') {
        log.warn(`wrapped program ended; staying up without it (${flag('wrapMode')} ignore)`, { status, ...how });
      } else {
        const delay = respawnDelayMs(starts, Date.now());
        if (delay > 0)
          log.warn('wrapped program respawning too fast; waiting before the next start', {
            status,
            ...how,
            wait_s: Math.ceil(delay / 1000),
          });
        else log.info(`wrapped program ended; starting it again (${flag('wrapMode')} respawn)`, { status, ...how });
        respawnTimer = setTimeout(start, delay);
      }
    };
    proc.on('error', (err: NodeJS.ErrnoException) => {
      // A running program whose kill() failed: nothing ended, keep watching it.
      if (proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null) {
        log.warn('wrapped program: signal failed', { error: err.code ?? err.message });
        return;
      }
      // spawn failures (ENOENT, EACCES) arrive here instead of 'exit'; 127/126 as a shell would report them.
      log.error('wrapped program could not be started', { error: err.code ?? err.message, command: program });
      ended(err.code === 'ENOENT' ? 127 : 126, { error: err.code ?? err.message });
    });
    proc.on('exit', (code, signal) => ended(exitStatusOf(code, signal), signal === null ? { code } : { signal }));
    if (proc.pid !== undefined) log.info('wrapped program started', { pid: proc.pid, mode: options.mode });
  };

  start();
  return {
    pid: () => child?.pid,
    stop: async () => {
      stopped = true;
      clearTimeout(respawnTimer);
      const proc = child;
      if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), options.killAfterMs ?? 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
