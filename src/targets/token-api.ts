/**
 * `BaseTokenAPI` / `JSONTokenApi`: the target comes from an HTTP(S) lookup, `tokenSource` 'https://api/lookup/%s'`.
 * Unlike websockify the token is URL-encoded, the request has a deadline, and answers are cached briefly. A 2xx body
 * is `host:port` (BaseTokenAPI) or `{"host": …, "port": …}` (JSONTokenApi); 404 and other 4xx mean "unknown token";
 * 5xx, a timeout or an unreachable API mean the source is down (503 to the client).
 */
import { ProxyError } from '../errors.js';
import type { Logger } from '../log.js';
import { hostPort } from '../net/address.js';
import { parseTargetValue } from './token-line.js';
import { tokenApiTemplate, websockifyAlias } from './source-checks.js';
import type { Resolution, Target, TargetResolver, TokenPlugin } from './types.js';

/** Tuning of an API resolver. */
export interface TokenApiOptions {
  readonly json: boolean;
  readonly timeoutMs: number;
  /** How long a found / unknown answer is reused. */
  readonly positiveTtlMs: number;
  readonly negativeTtlMs: number;
  readonly log: Logger;
}

const MAX_CACHE = 10_000;

function fromJson(body: string): Target | string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return 'the answer is not JSON';
  }
  if (typeof value !== 'object' || value === null) return 'the answer is not a JSON object';
  const { host, port, proxy_protocol: pp } = value as { host?: unknown; port?: unknown; proxy_protocol?: unknown };
  if (typeof host !== 'string' || host === '') return "the answer has no 'host'";
  if (typeof port !== 'number' && typeof port !== 'string') return "the answer has no 'port'";
  // Optional per-token override of `proxyProtocolOut`.
  if (pp !== undefined && pp !== 'v1' && pp !== 'v2' && pp !== 'none')
    return "'proxy_protocol' is not one of v1, v2, none";
  const target = parseTargetValue(hostPort(host, port));
  return typeof target === 'string' || pp === undefined ? target : { ...target, proxyProtocol: pp };
}

/** Builds the resolver for `template` (an http(s) URL containing `%s`). */
export function tokenApiResolver(template: string, options: TokenApiOptions): TargetResolver {
  const cache = new Map<string, { result: Resolution; expires: number }>();
  const remember = (token: string, result: Resolution, ttl: number): Resolution => {
    if (ttl > 0) {
      if (cache.size >= MAX_CACHE) cache.delete(cache.keys().next().value as string);
      cache.set(token, { result, expires: Date.now() + ttl });
    }
    return result;
  };
  return {
    name: options.json ? 'JSONTokenApi' : 'BaseTokenAPI',
    usesToken: true,
    async resolve(token: string | undefined): Promise<Resolution> {
      if (token === undefined) return { kind: 'unknown' };
      const hit = cache.get(token);
      if (hit && hit.expires > Date.now()) return hit.result;
      cache.delete(token);
      const url = template.replace('%s', encodeURIComponent(token));
      let res: Response;
      try {
        res = await fetch(url, {
          signal: AbortSignal.timeout(options.timeoutMs),
          redirect: 'error',
          headers: { Accept: options.json ? 'application/json' : 'text/plain' },
        });
      } catch (err) {
        const why = (err as Error).name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : 'unreachable';
        throw new ProxyError('TOKEN_SOURCE_DOWN', `token API ${new URL(template).host} ${why}`, { cause: err });
      }
      const body = (await res.text()).trim();
      if (res.status >= 500)
        throw new ProxyError('TOKEN_SOURCE_DOWN', `token API ${new URL(template).host} answered ${res.status}`);
      if (!res.ok) return remember(token, { kind: 'unknown' }, options.negativeTtlMs);
      const target = options.json ? fromJson(body) : parseTargetValue(body.split(/\r?\n/)[0] ?? '');
      if (typeof target === 'string') {
        options.log.warn('token API answer not understood; token treated as unknown', { problem: target });
        return remember(token, { kind: 'unknown' }, options.negativeTtlMs);
      }
      return remember(token, { kind: 'found', target }, options.positiveTtlMs);
    },
  };
}

/** The API plugins: plain `host:port` answers (BaseTokenAPI) or JSON ones (JSONTokenApi). */
function tokenApiPlugin(name: string, json: boolean): TokenPlugin {
  return {
    name,
    aliases: [websockifyAlias(name)],
    parseSource: (text) => tokenApiTemplate(text, name),
    create: (source, deps) =>
      tokenApiResolver(source, { json, timeoutMs: 5_000, positiveTtlMs: 5_000, negativeTtlMs: 2_000, log: deps.log }),
  };
}

export const baseTokenApiPlugin: TokenPlugin = tokenApiPlugin('BaseTokenAPI', false);
export const jsonTokenApiPlugin: TokenPlugin = tokenApiPlugin('JSONTokenApi', true);
