/**
 * What makes a fleet of wsproxy processes sharing one Redis behave as one proxy (issue 7, "A fleet sharing Redis"):
 *
 * - Revocation: a second connection subscribes to keyspace notifications for the token keys, so a `DEL`, `SET` or
 *   expiry of a token re-checks that token's live sessions on every process at once (no `revalidateInterval`
 *   needed). The flags `K`, `g`, `$` and `x` of `notify-keyspace-events` are added with `CONFIG SET` when the server
 *   allows it (after every reconnect, since a restarted Redis forgets them); if it refuses, one warning.
 * - Session cap: the live sessions of a token are members of the sorted set `wsproxy:sessions:<token hash>`, one per
 *   session (`<process id>:<session number>`), scored with their expiry time on the Redis clock. Each process
 *   refreshes its own members every {@link SESSION_HEARTBEAT_MS}; members of a crashed process age out after
 *   {@link SESSION_TTL_MS}. Check-and-add is one Lua script, so two processes cannot both take the last slot.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { ProxyError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SharedSessionCounter } from './types.js';
import { tokenHashWith } from './token-hash.js';
import { flag } from '../config/options/index.js';

/** How long a session member lives in Redis without a heartbeat from its process. */
export const SESSION_TTL_MS = 30_000;
/** How often a process refreshes the members of its live sessions. */
export const SESSION_HEARTBEAT_MS = 10_000;
/** Prefix of the session-count keys (outside any token namespace, so they never look like tokens). */
export const SESSION_KEY_PREFIX = 'wsproxy:sessions:';
/** The `notify-keyspace-events` classes revocation needs: keyspace channel, generic (del, rename), string (set), expired. */
export const NEEDED_KEYSPACE_FLAGS = 'Kg$x';

// KEYS[1] the set; ARGV: limit, member, ttl ms. Uses the Redis clock, so processes with skewed clocks agree
// (replicate_commands: Redis < 5 refuses writes after TIME otherwise; a no-op from Redis 7).
const ACQUIRE_LUA = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1`;

// KEYS[1] the set; ARGV: member, ttl ms. Re-adds a member lost to a Redis restart, so the cap holds again after it.
const REFRESH_LUA = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1`;

/** The first line of an error message, for logs (never holds the password: ioredis does not put it there). */
function firstLine(err: unknown): string {
  return ((err as Error).message ?? String(err)).split('\n')[0] ?? 'error';
}

/** Which of `needed` flags `current` (a `notify-keyspace-events` value) lacks; `A` stands for every event class (pure). */
export function missingKeyspaceFlags(current: string, needed: string = NEEDED_KEYSPACE_FLAGS): string {
  let missing = '';
  for (const flag of needed) {
    const covered = current.includes(flag) || (flag !== 'K' && flag !== 'E' && current.includes('A'));
    if (!covered) missing += flag;
  }
  return missing;
}

/** Fleet-wide session counter on `client` (the lookup connection). */
export function redisSessionCounter(
  client: Redis,
  log: Logger,
  source: string,
): SharedSessionCounter & { close(): void } {
  // Keyed by the source (address, password, namespace), which the whole fleet shares: the same name on every node
  // without any further setup. Whoever reads these key names can read the token keys beside them anyway.
  const fleetKey = Buffer.from(`wsproxy-session-count\0${source}`, 'utf8');
  const processId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  let seq = 0;
  // member → key of every live session of this process, for the heartbeat.
  const live = new Map<string, string>();
  const heartbeat = setInterval(() => {
    if (live.size === 0 || client.status !== 'ready') return;
    const batch = client.pipeline();
    for (const [member, key] of live) batch.eval(REFRESH_LUA, 1, key, member, String(SESSION_TTL_MS));
    batch.exec().catch((err: unknown) => log.debug('session heartbeat to Redis failed', { error: firstLine(err) }));
  }, SESSION_HEARTBEAT_MS);
  heartbeat.unref();

  return {
    nameOf: (token) => tokenHashWith(fleetKey, token),
    async acquire(tokenHash: string, limit: number): Promise<(() => void) | undefined> {
      const key = SESSION_KEY_PREFIX + tokenHash;
      const member = `${processId}:${++seq}`;
      let taken: unknown;
      try {
        taken = await client.eval(ACQUIRE_LUA, 1, key, String(limit), member, String(SESSION_TTL_MS));
      } catch (err) {
        throw new ProxyError('TOKEN_SOURCE_DOWN', `Redis session count failed (${firstLine(err)})`, { cause: err });
      }
      if (taken !== 1) return undefined;
      live.set(member, key);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        live.delete(member);
        // If Redis is down now, the member ages out after SESSION_TTL_MS (no heartbeat refreshes it any more).
        client
          .zrem(key, member)
          .catch((err: unknown) =>
            log.debug('session release in Redis failed; it ages out', { error: firstLine(err) }),
          );
      };
    },
    close() {
      clearInterval(heartbeat);
    },
  };
}

/**
 * Subscribes `subscriber` (a dedicated connection) to the keyspace channels of the token keys and calls `onChange`
 * with the tokens that changed; after a reconnect, `onChange()` without tokens (events may have been missed).
 * `configure` is the lookup connection, used for `CONFIG GET/SET notify-keyspace-events`.
 */
export function watchKeyspace(
  subscriber: Redis,
  configure: Redis,
  opts: { db: number; namespace: string | undefined; where: string },
  log: Logger,
  onChange: (tokens?: readonly string[]) => void,
): () => void {
  const prefix = `__keyspace@${opts.db}__:`;
  const pattern = `${prefix}${opts.namespace === undefined ? '' : `${opts.namespace}:`}*`;
  const keyPrefix = opts.namespace === undefined ? '' : `${opts.namespace}:`;
  let readyBefore = false;
  let pending: Set<string> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  // The warning is said once per watch, however often Redis reconnects.
  const warned = { config: false };
  const ensureNotifications = (): Promise<void> => enableNotifications(configure, opts.where, log, warned);

  const flush = (): void => {
    timer = undefined;
    const tokens = pending;
    pending = undefined;
    if (!stopped && tokens) onChange([...tokens]);
  };

  // Coalesces a burst of events (a bulk DEL) into one re-check.
  const subscriberOnPmessage = (_pattern: string, channel: string): void => {
    const key = channel.slice(prefix.length);
    if (key.startsWith(SESSION_KEY_PREFIX) || !key.startsWith(keyPrefix)) return;
    (pending ??= new Set()).add(key.slice(keyPrefix.length));
    timer ??= setTimeout(flush, 20);
  };
  // A restarted Redis forgets a CONFIG SET: set it again on every (re)connect of the lookup connection.
  const configureOnReady = (): void => void ensureNotifications();
  const subscriberOnReady = (): void => {
    // ioredis re-subscribes by itself (autoResubscribe); what changed while we were away is re-checked in full.
    if (readyBefore && !stopped) onChange();
    readyBefore = true;
  };
  subscriber.on('pmessage', subscriberOnPmessage);
  subscriber.on('ready', subscriberOnReady);
  configure.on('ready', configureOnReady);
  if (configure.status === 'ready') configureOnReady();
  // It waits in the offline queue while Redis is down, so a failure here is a refusal (e.g. an ACL without `&*`).
  subscriber.psubscribe(pattern).catch((err: unknown) => {
    if (!stopped)
      log.warn(
        `Redis keyspace subscription refused; revoked tokens are only noticed by ${flag('revalidateInterval')}`,
        {
          redis: opts.where,
          error: firstLine(err),
        },
      );
  });
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    subscriber.off('pmessage', subscriberOnPmessage);
    subscriber.off('ready', subscriberOnReady);
    configure.off('ready', configureOnReady);
  };
}

/**
 * Makes sure the server publishes the keyspace events revocation needs (`CONFIG GET/SET notify-keyspace-events` on
 * the lookup connection); when it cannot, warns once (`warned`) that revocation falls back to the periodic re-check.
 */
async function enableNotifications(
  configure: Redis,
  where: string,
  log: Logger,
  warned: { config: boolean },
): Promise<void> {
  try {
    const reply = (await configure.config('GET', 'notify-keyspace-events')) as string[];
    const current = reply[1] ?? '';
    const missing = missingKeyspaceFlags(current);
    if (missing === '') return;
    await configure.config('SET', 'notify-keyspace-events', current + missing);
    log.info('enabled Redis keyspace notifications for token revocation', { redis: where, flags: current + missing });
  } catch (err) {
    if (warned.config) return;
    warned.config = true;
    log.warn(
      `Redis keyspace notifications could not be enabled; set notify-keyspace-events to include ${NEEDED_KEYSPACE_FLAGS} on the server, or revoked tokens are only noticed by ${flag('revalidateInterval')}`,
      {
        redis: where,
        error: firstLine(err),
      },
    );
  }
}
