/**
 * `TokenRedis`: targets stored in Redis under `namespace:token` (or `token`), as `{"host": "h:p"}` or plain `h:p`.
 * The source is websockify's `host[:port[:db[:password[:namespace]]]]` (empty fields keep the defaults 6379 and 0; a
 * field may be double-quoted to contain colons) or a `redis://` / `rediss://` URL with an optional `?namespace=`.
 * One pooled `ioredis` client; while Redis is unreachable, lookups fail at once with 503 and the client keeps
 * reconnecting in the background. The password is never logged.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { ProxyError } from '../errors.js';
import type { Logger } from '../log.js';
import { redisSessionCounter, watchKeyspace } from './redis-fleet.js';
import { parseTargetValue } from './token-line.js';
import { websockifyAlias } from './source-checks.js';
import type { Resolution, TargetResolver, TokenPlugin } from './types.js';

/** Parsed connection settings. */
export interface RedisSource {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly password: string | undefined;
  readonly username: string | undefined;
  readonly namespace: string | undefined;
  readonly tls: boolean;
}

/** Splits on ':' except inside double quotes (pure). */
function splitFields(text: string): string[] {
  const fields: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ':' && !quoted) {
      fields.push(cur);
      cur = '';
    } else cur += ch;
  }
  fields.push(cur);
  return fields;
}

/** Parses a `tokenSource` for TokenRedis (pure). Throws a one-line Error (without the password). */
export function parseRedisSource(source: string): RedisSource {
  if (/^rediss?:\/\//.test(source)) {
    let url: URL;
    try {
      url = new URL(source);
    } catch {
      throw new Error('the redis:// URL is malformed');
    }
    const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
    if (!Number.isInteger(db) || db < 0) throw new Error('the database in the redis:// URL is not a number');
    return {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port ? Number(url.port) : 6379,
      db,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      username: url.username ? decodeURIComponent(url.username) : undefined,
      namespace: url.searchParams.get('namespace') ?? undefined,
      tls: url.protocol === 'rediss:',
    };
  }
  const [host = '', port = '', db = '', password = '', namespace = ''] = splitFields(source);
  if (host === '') throw new Error('TokenRedis needs host[:port[:db[:password[:namespace]]]]');
  if (port !== '' && !/^\d{1,5}$/.test(port)) throw new Error(`'${port}' is not a Redis port`);
  if (db !== '' && !/^\d+$/.test(db)) throw new Error(`'${db}' is not a Redis database number`);
  return {
    host,
    port: port === '' ? 6379 : Number(port),
    db: db === '' ? 0 : Number(db),
    password: password === '' ? undefined : password,
    username: undefined,
    namespace: namespace === '' ? undefined : namespace,
    tls: false,
  };
}

/** Reads a stored value: `{"host": "h:p"}` or plain `h:p` (pure). */
export function parseRedisValue(value: string): ReturnType<typeof parseTargetValue> {
  const v = value.trim();
  if (v.startsWith('{')) {
    try {
      const parsed = JSON.parse(v) as { host?: unknown; port?: unknown };
      if (typeof parsed.host !== 'string') return "the JSON value has no 'host'";
      if (parsed.port === undefined) return parseTargetValue(parsed.host);
      if (typeof parsed.port !== 'number' && typeof parsed.port !== 'string') return "the JSON 'port' is not a number";
      return parseTargetValue(`${parsed.host}:${parsed.port}`);
    } catch {
      return 'the value is not valid JSON';
    }
  }
  return parseTargetValue(v);
}

/** Builds the resolver and its client (connecting in the background). */
export function redisResolver(source: string, log: Logger): TargetResolver {
  const s = parseRedisSource(source);
  const options = redisOptions(s);
  const where = `${s.host}:${s.port}/${s.db}`;
  const client = new Redis(options);
  const outage = logOutages(client, log, where);
  // Fleet support (redis-fleet.ts): the shared session count, and a subscriber connection made on the first watch().
  const sessionCounter = redisSessionCounter(client, log, source);
  let subscriber: Redis | undefined;
  const keyOf = (token: string): string => (s.namespace === undefined ? token : `${s.namespace}:${token}`);
  return {
    name: 'TokenRedis',
    usesToken: true,
    sessionCounter,
    watch(onChange) {
      subscriber ??= subscriberFor(options);
      return watchKeyspace(subscriber, client, { db: s.db, namespace: s.namespace, where }, log, onChange);
    },
    resolve: (token) =>
      token === undefined ? Promise.resolve({ kind: 'unknown' }) : lookup(client, keyOf(token), where, log),
    health() {
      // 'ready' is ioredis' connected-and-authenticated state; anything else means lookups answer 503 now.
      return Promise.resolve(
        client.status === 'ready' ? { ok: true } : { ok: false, detail: `Redis ${where} is ${client.status}` },
      );
    },
    async close(): Promise<void> {
      outage.closing();
      sessionCounter.close();
      subscriber?.disconnect();
      client.disconnect();
      await Promise.resolve();
    },
  };
}

/** The lookup client's options. */
function redisOptions(s: RedisSource): RedisOptions {
  return {
    host: s.host,
    port: s.port,
    db: s.db,
    lazyConnect: false,
    // Fail fast while disconnected (503 to the client) instead of queueing lookups behind a dead server.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    retryStrategy: (times) => Math.min(200 * times, 2_000),
    ...(s.password === undefined ? {} : { password: s.password }),
    ...(s.username === undefined ? {} : { username: s.username }),
    ...(s.tls ? { tls: { servername: s.host } } : {}),
  };
}

/**
 * Logs the transitions of the lookup connection only (down once, back once), not every failed reconnect attempt.
 * `closing()`: closed on purpose (shutdown, or replaced by a reload), so the connection going away is not an outage.
 */
function logOutages(client: Redis, log: Logger, where: string): { closing(): void } {
  let down = false;
  let closed = false;
  const markDown = (why: string): void => {
    if (closed) return;
    if (!down) log.warn('Redis unreachable; token lookups answer 503 until it is back', { redis: where, error: why });
    down = true;
  };
  client.on('error', (err: Error) => markDown((err as NodeJS.ErrnoException).code ?? err.message));
  client.on('close', () => markDown('connection closed'));
  client.on('ready', () => {
    if (down) log.info('Redis reachable again', { redis: where });
    down = false;
  });
  return {
    closing: () => {
      closed = true;
    },
  };
}

/** Subscriber mode needs its own connection; it waits for Redis (offline queue) instead of failing fast. */
function subscriberFor(options: RedisOptions): Redis {
  const subscriber = new Redis({
    ...options,
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    commandTimeout: undefined,
  });
  // Its errors are the lookup connection's too (same server); that one logs the transitions.
  subscriber.on('error', () => {});
  return subscriber;
}

/** One token's target; Redis unreachable is 503 `TOKEN_SOURCE_DOWN`, a value not understood an unknown token. */
async function lookup(client: Redis, key: string, where: string, log: Logger): Promise<Resolution> {
  let value: string | null;
  try {
    value = await client.get(key);
  } catch (err) {
    throw new ProxyError(
      'TOKEN_SOURCE_DOWN',
      `Redis ${where} lookup failed (${(err as Error).message.split('\n')[0] ?? 'error'})`,
      { cause: err },
    );
  }
  if (value === null) return { kind: 'unknown' };
  const target = parseRedisValue(value);
  if (typeof target === 'string') {
    log.warn('Redis value not understood; token treated as unknown', { problem: target });
    return { kind: 'unknown' };
  }
  return { kind: 'found', target };
}

/** `TokenRedis`: its source is parsed at start by `redisResolver` (a bad one is reported there as a config error). */
export const tokenRedisPlugin: TokenPlugin = {
  name: 'TokenRedis',
  aliases: [websockifyAlias('TokenRedis')],
  parseSource: (text) => text,
  create: (source, deps) => redisResolver(source, deps.log),
};
