/**
 * Token revocation (websockify#229): live sessions are re-resolved through the same `TargetResolver` that admitted
 * them, when the resolver reports a change (`watch`, e.g. a token file was edited) and/or every
 * `revalidateInterval`. A token that is now unknown closes its sessions with 1008 `TOKEN_REVOKED`; one that now
 * points elsewhere, 1008 `TOKEN_TARGET_CHANGED`. A source that cannot be reached revokes nothing: an outage of the
 * token service must not cut every session.
 */
import { describeThrown, logInternalError } from '../boundary.js';
import type { Logger } from '../log.js';
import { describeTarget, type TargetResolver } from '../targets/types.js';
import type { SessionInfo } from '../websocket/handshake.js';

/** What the revalidator needs from the server. */
export interface RevalidatorDeps {
  readonly sessions: () => Iterable<SessionInfo>;
  readonly resolver: () => TargetResolver | undefined;
  /** Periodic re-check (0 = only on change notifications). */
  readonly intervalMs: number;
  readonly log: Logger;
}

/** Starts and stops revalidation; `run()` re-checks once (the timer and the watch call it). */
export interface Revalidator {
  start(): void;
  stop(): void;
  /** Re-checks the sessions of `tokens` (all sessions without it). */
  run(tokens?: readonly string[]): Promise<void>;
}

/** What the next pass re-checks: every session ('all') or only those of some tokens; undefined = nothing pending. */
type Pending = Set<string> | 'all' | undefined;

/** Builds the revalidator. Nothing runs until `start()`. */
export function createRevalidator(deps: RevalidatorDeps): Revalidator {
  let timer: NodeJS.Timeout | undefined;
  let unwatch: (() => void) | undefined;
  let running: Promise<void> | undefined;
  let pending: Pending;

  function run(tokens?: readonly string[]): Promise<void> {
    const resolver = deps.resolver();
    if (!resolver?.usesToken) return Promise.resolve();
    pending = withTokens(pending, tokens);
    // A change arriving during a pass is taken by one more pass after it, never two at once.
    if (running) return running;
    running = (async () => {
      while (pending !== undefined) {
        const only = pending;
        pending = undefined;
        await checkAll(deps.sessions(), resolver, only);
      }
    })()
      .catch((err: unknown) => deps.log.error('token re-check failed', { error: (err as Error).message }))
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  return {
    start() {
      const resolver = deps.resolver();
      if (!resolver?.usesToken) return;
      unwatch = resolver.watch?.((tokens) => void run(tokens));
      if (deps.intervalMs > 0) timer = setInterval(() => void run(), deps.intervalMs);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      unwatch?.();
      unwatch = undefined;
    },
    run,
  };
}

/** The pending work after a request for `tokens` (all sessions without it); a pending 'all' stays 'all'. */
function withTokens(pending: Pending, tokens: readonly string[] | undefined): Pending {
  if (tokens === undefined) return 'all';
  if (pending === 'all') return pending;
  const set: Set<string> = pending ?? new Set();
  for (const t of tokens) set.add(t);
  return set;
}

/** Re-checks the sessions admitted with a token (of `only`, unless 'all'), one after the other. */
async function checkAll(
  sessions: Iterable<SessionInfo>,
  resolver: TargetResolver,
  only: Set<string> | 'all',
): Promise<void> {
  for (const s of [...sessions]) {
    if (!s.resolved || s.resolved.token === undefined) continue;
    if (only !== 'all' && !only.has(s.resolved.token)) continue;
    const token = s.resolved.token;
    try {
      await checkOne(resolver, s, s.resolved, token);
    } catch (err) {
      // The error boundary: a failure while re-checking one session ends that session, and the pass goes on.
      logInternalError(err, { log: s.conn.log, where: 'token re-check', secret: token });
      s.relay.close('INTERNAL_ERROR', 1011, 'Internal error');
    }
  }
}

/** Re-checks one session; a source that throws (whatever it throws) revokes nothing. */
async function checkOne(
  resolver: TargetResolver,
  s: SessionInfo,
  resolved: NonNullable<SessionInfo['resolved']>,
  token: string,
): Promise<void> {
  let answer;
  try {
    answer = await resolver.resolve(token, resolved.ctx);
  } catch (err) {
    s.conn.log.debug('token re-check skipped: source unavailable', { error: describeThrown(err, token) });
    return;
  }
  if (answer.kind !== 'found') {
    s.conn.log.info('token revoked; closing its session', { reason: 'TOKEN_REVOKED' });
    s.relay.close('TOKEN_REVOKED', 1008, 'Token revoked');
  } else if (describeTarget(answer.target) !== describeTarget(resolved.target)) {
    s.conn.log.info('token now points elsewhere; closing its session', {
      reason: 'TOKEN_TARGET_CHANGED',
      target: describeTarget(answer.target),
    });
    s.relay.close('TOKEN_TARGET_CHANGED', 1008, 'Token target changed');
  }
}
