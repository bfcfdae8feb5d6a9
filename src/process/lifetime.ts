/**
 * websockify's process lifetime rules: `runOnce` (stop when the first session ends), `timeout` (stop accepting
 * after N seconds, exit once the sessions have ended) and `idleTimeout` (exit after N seconds with no session).
 * Driven by explicit calls and a clock that is passed in, so the rules are tested without waiting.
 */
import { optionName } from '../config/options/index.js';

/** Why the lifetime rules end the process (the `reason` of its "shutting down" line): `timeout`, or the option that
 * ended it, by its name. */
export type LifetimeEnd = string;

export interface LifetimeRules {
  readonly runOnce: boolean;
  readonly timeoutMs: number;
  readonly idleTimeoutMs: number;
}

export interface LifetimeActions {
  /** Ends the process. */
  stop(why: LifetimeEnd): void;
  /** `timeout` reached: no new connections, live sessions go on. */
  stopAccepting(): void;
  /** `timeout` reached while `sessions` are still open: the process waits for them. */
  waiting(sessions: number): void;
}

/** Runs `fn` after `ms`; the answer cancels it. */
export type Clock = (ms: number, fn: () => void) => () => void;

const realClock: Clock = (ms, fn) => {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
};

export interface Lifetime {
  /** The server is ready: the idle and `timeout` clocks start. */
  start(): void;
  sessionOpened(): void;
  sessionClosed(): void;
}

export function createLifetime(rules: LifetimeRules, actions: LifetimeActions, clock: Clock = realClock): Lifetime {
  let active = 0;
  let acceptingStopped = false;
  let cancelIdle = (): void => undefined;
  const armIdle = (): void => {
    cancelIdle();
    if (rules.idleTimeoutMs > 0 && active === 0)
      cancelIdle = clock(rules.idleTimeoutMs, () => actions.stop(optionName('idleTimeout')));
  };
  const timeoutReached = (): void => {
    acceptingStopped = true;
    actions.stopAccepting();
    if (active === 0) actions.stop('timeout');
    else actions.waiting(active);
  };
  return {
    start() {
      armIdle();
      if (rules.timeoutMs > 0) clock(rules.timeoutMs, timeoutReached);
    },
    sessionOpened() {
      active++;
      cancelIdle();
    },
    sessionClosed() {
      active--;
      if (rules.runOnce) actions.stop(optionName('runOnce'));
      else if (acceptingStopped && active === 0) actions.stop('timeout');
      else armIdle();
    },
  };
}
