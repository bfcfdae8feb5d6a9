/**
 * A token resolver of the operator's own: `tokenPlugin` ./my-resolver.js` (websockify's `mypkg.MyPlugin`). The ES
 * module is imported once at start; its default export is either
 * - an object with `resolve(token, ctx)` (and optionally `name`, `close()`), or
 * - a class or (async) factory function, called once with `{ source, log }` (`source` is `tokenSource`), giving
 *   such an object.
 * `resolve` answers `{ kind: 'found', target }`, `{ kind: 'unknown' }` (or `null`/`undefined`, like websockify's
 * `lookup` returning None). Anything it throws — and any answer that is not one of those — is "source down" (503),
 * logged with the token replaced by `***`; the client sees only the catalogue text.
 */
import { basename } from 'node:path';
import { ProxyError } from '../errors.js';
import type { Logger } from '../log.js';
import { loadPluginModule } from '../plugin-loader.js';
import { tokenHash } from './token.js';
import type { RequestContext, Resolution, Target, TargetResolver } from './types.js';
import { flag } from '../config/options/index.js';

/** The shape a resolver module's instance has (checked at load). */
interface ResolverLike {
  readonly name?: unknown;
  resolve(token: string, ctx: RequestContext): unknown;
  close?: unknown;
}

/** Checks a target a custom resolver returned; undefined if it is not one. Pure. */
export function validTarget(value: unknown): Target | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const t = value as Record<string, unknown>;
  if (t['kind'] === 'unix') {
    return typeof t['path'] === 'string' && t['path'].startsWith('/') ? { kind: 'unix', path: t['path'] } : undefined;
  }
  if (t['kind'] === 'tcp' || t['kind'] === undefined) {
    const host = t['host'];
    const port = typeof t['port'] === 'string' && /^\d+$/.test(t['port']) ? Number(t['port']) : t['port'];
    if (
      typeof host !== 'string' ||
      host.length === 0 ||
      typeof port !== 'number' ||
      !Number.isInteger(port) ||
      port < 1 ||
      port > 65535
    )
      return undefined;
    return { kind: 'tcp', host: host.replace(/^\[|\]$/g, ''), port };
  }
  return undefined;
}

/** Makes a plugin's error message safe to log: first line only, the token replaced. Pure. */
export function safeErrorText(err: unknown, token: string): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const first = text.split('\n')[0] ?? '';
  return (token.length > 0 ? first.split(token).join('***') : first).slice(0, 300);
}

/** Loads the resolver module `file` (absolute) and wraps it with wsproxy's checks. */
export async function customResolver(file: string, source: string | undefined, log: Logger): Promise<TargetResolver> {
  const plog = log.child({ plugin: basename(file) });
  const user = (await loadPluginModule(flag('tokenPlugin'), file, { source, log: plog }, 'resolve')) as ResolverLike;
  const name = typeof user.name === 'string' && user.name !== '' ? user.name : basename(file);
  return {
    name,
    usesToken: true,
    async resolve(token: string | undefined, ctx: RequestContext): Promise<Resolution> {
      if (token === undefined) return { kind: 'unknown' };
      let answer: unknown;
      try {
        answer = await user.resolve(token, ctx);
      } catch (err) {
        if (err instanceof ProxyError) throw err;
        plog.warn('token plugin failed', {
          reason: 'TOKEN_SOURCE_DOWN',
          token_hash: tokenHash(token),
          error: safeErrorText(err, token),
        });
        throw new ProxyError('TOKEN_SOURCE_DOWN', `token plugin ${name} failed`, { cause: err });
      }
      if (answer === null || answer === undefined) return { kind: 'unknown' };
      const a = answer as { kind?: unknown; target?: unknown };
      if (a.kind === 'unknown') return { kind: 'unknown' };
      const target = a.kind === 'found' ? validTarget(a.target) : undefined;
      if (!target) {
        plog.warn('token plugin gave an invalid answer', { reason: 'TOKEN_SOURCE_DOWN', token_hash: tokenHash(token) });
        throw new ProxyError(
          'TOKEN_SOURCE_DOWN',
          `token plugin ${name} gave an invalid answer; expected { kind: 'found', target } or { kind: 'unknown' }`,
        );
      }
      return { kind: 'found', target };
    },
    async close(): Promise<void> {
      if (typeof user.close === 'function') await (user.close as () => unknown).call(user);
    },
  };
}
