/**
 * The lifetime of a server's token source: built from the configuration (at start and on a reload that changes it),
 * held by every handshake and fleet-counted session that uses it, and closed only once a replaced one has no users
 * left. Also the token_hash key, installed once a token source is first in use.
 */
import type { Config, TargetSource } from '../config/types.js';
import { ReloadError, firstLine } from '../errors.js';
import type { Logger } from '../log.js';
import { startDemoEcho } from './demo-echo.js';
import { fixedTarget } from './fixed.js';
import { createTokenResolver, customResolver } from './registry.js';
import { loadTokenHashKey } from './token-hash.js';
import type { TargetResolver } from './types.js';
import { flag } from '../config/options/index.js';

/** Builds the token source (or fixed/demo resolver) for `targets`; throws what the plugin throws. */
export async function buildResolver(targets: TargetSource, log: Logger): Promise<TargetResolver> {
  if (targets.kind === 'demo') return startDemoEcho();
  if (targets.kind !== 'token') return fixedTarget(targets.target);
  if (targets.custom === true)
    return customResolver(targets.plugin, targets.source === '' ? undefined : targets.source, log);
  return createTokenResolver(targets.plugin, targets.source, log, {
    jwtAudience: targets.jwtAudience,
    jwtIssuer: targets.jwtIssuer,
    jwtAllowNoExp: targets.jwtAllowNoExp,
  });
}

/** Waits until a new token source can answer (Redis connected), so /readyz stays green across a reload's swap. */
export async function untilHealthy(r: TargetResolver, timeoutMs: number): Promise<void> {
  if (!r.health) return;
  const end = Date.now() + timeoutMs;
  for (;;) {
    const h = await r.health();
    if (h.ok) return;
    if (Date.now() >= end)
      throw new ReloadError(
        'TOKEN_SOURCE_UNUSABLE',
        `${flag('tokenSource')}: the new token source does not answer${h.detail === undefined ? '' : ` (${h.detail})`}`,
        { flag: flag('tokenSource') },
      );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Reference counts of token sources. A replaced source is closed once nothing uses it any more: no handshake that
 * started with it, and no session holding a slot in its fleet-wide count (closing would stop the heartbeat that keeps
 * those slots).
 */
export class ResolverHolds {
  readonly #users = new Map<TargetResolver, number>();
  readonly #retiring = new Set<TargetResolver>();

  constructor(private readonly log: Logger) {}

  /** Marks `r` as in use until the returned function is called (once; later calls do nothing). */
  hold(r: TargetResolver): () => void {
    this.#users.set(r, (this.#users.get(r) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#users.get(r) ?? 1) - 1;
      if (left > 0) this.#users.set(r, left);
      else {
        this.#users.delete(r);
        if (this.#retiring.has(r)) this.#close(r);
      }
    };
  }

  /** `r` was replaced: closed now if unused, else when its last user lets go. */
  retire(r: TargetResolver): void {
    this.#retiring.add(r);
    if (!this.#users.has(r)) this.#close(r);
    else
      this.log.debug('the replaced token source closes once its handshakes and sessions end', {
        plugin: r.name,
        users: this.#users.get(r),
      });
  }

  /** Closes every replaced source still waiting for its users (the server is closing: they are gone). */
  closeRetired(): void {
    for (const r of [...this.#retiring]) this.#close(r);
  }

  #close(r: TargetResolver): void {
    this.#retiring.delete(r);
    r.close?.().catch((err: unknown) =>
      this.log.warn('closing the replaced token source failed', { plugin: r.name, error: (err as Error).message }),
    );
  }
}

/**
 * The key of token_hash, installed once a token source is in use (at start, or on the reload that adds one): made in
 * the state dir on first use unless `tokenHashKeyFile` names one.
 */
export class TokenHashKey {
  #loaded = false;

  constructor(private readonly log: Logger) {}

  /** Installs the key `config` names, once; throws a one-line error naming the flag. */
  async install(config: Config): Promise<void> {
    const where = config.tokenHashKey;
    if (where === undefined || this.#loaded || config.targets.kind !== 'token') return;
    try {
      if (await loadTokenHashKey(where))
        this.log.info('made the key for token_hash (kept for restarts)', { file: where.file });
    } catch (err) {
      throw new Error(`${where.given ? flag('tokenHashKeyFile') : flag('stateDir')}: ${firstLine(err)}`, {
        cause: err,
      });
    }
    this.#loaded = true;
    if (!where.given && config.targets.plugin === 'TokenRedis') {
      this.log.warn(
        `TokenRedis without ${flag('tokenHashKeyFile')}: token_hash in logs and /sessions differs between nodes; give every node the same key file to match them`,
      );
    }
  }
}
