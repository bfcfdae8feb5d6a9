/**
 * An authenticator of the operator's own: `authPlugin` ./my-auth.js`. Same loading rules as a custom token resolver
 * (plugin-loader.ts): default export an object with `check(ctx)`, or a class/factory called with `{ source, log }`.
 * The module is imported at start (`load()`, from the server's listen), so the server can be built synchronously.
 * `check` must answer `{ kind: 'allow', identity? }` or `{ kind: 'deny', status: 401 | 403, reason, headers? }`; a
 * throw or any other answer denies with 403 (fail closed) and logs the error's first line.
 */
import { basename } from 'node:path';
import type { Logger } from '../log.js';
import { hideSecret, loadPluginModule } from '../plugin-loader.js';
import type { AuthContext, AuthDecision, Authenticator } from './types.js';
import { flag } from '../config/options/index.js';

/** A custom authenticator and the step that loads it. */
export interface CustomAuthenticator {
  readonly authenticator: Authenticator;
  /** Imports and checks the module; throws PluginModuleError (one line naming `authPlugin`). */
  load(): Promise<void>;
}

interface CheckerLike {
  readonly name?: unknown;
  check(ctx: AuthContext): unknown;
}

/** Checks what a plugin's check() answered; undefined if it is not a decision. Pure. */
export function validDecision(value: unknown): AuthDecision | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const d = value as Record<string, unknown>;
  if (d['kind'] === 'allow')
    return typeof d['identity'] === 'string' ? { kind: 'allow', identity: d['identity'] } : { kind: 'allow' };
  if (d['kind'] !== 'deny' || (d['status'] !== 401 && d['status'] !== 403)) return undefined;
  const headers: Record<string, string> = {};
  if (typeof d['headers'] === 'object' && d['headers'] !== null) {
    for (const [k, v] of Object.entries(d['headers']))
      if (typeof v === 'string' && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(k) && !/[\r\n]/.test(v)) headers[k] = v;
  }
  return {
    kind: 'deny',
    status: d['status'],
    reason: typeof d['reason'] === 'string' ? d['reason'].slice(0, 200) : 'denied',
    headers,
  };
}

/** Wraps the module `file` (absolute); nothing is imported until `load()`. */
export function customAuthenticator(file: string, source: string, log: Logger): CustomAuthenticator {
  const plog = log.child({ plugin: basename(file) });
  let user: CheckerLike | undefined;
  let name = basename(file);
  return {
    authenticator: {
      get name(): string {
        return name;
      },
      async check(ctx: AuthContext): Promise<AuthDecision> {
        if (!user) return { kind: 'deny', status: 403, reason: 'auth plugin not loaded' };
        try {
          const decision = validDecision(await user.check(ctx));
          if (decision) return decision;
          plog.warn('auth plugin gave an invalid answer; denied', { reason: 'AUTH_FORBIDDEN' });
        } catch (err) {
          const first = (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).split('\n')[0] ?? '';
          plog.warn('auth plugin failed; denied', { reason: 'AUTH_FORBIDDEN', error: hideSecret(first, source) });
        }
        return { kind: 'deny', status: 403, reason: 'the auth plugin failed' };
      },
    },
    async load(): Promise<void> {
      user = (await loadPluginModule(
        flag('authPlugin'),
        file,
        { source: source === '' ? undefined : source, log: plog },
        'check',
      )) as CheckerLike;
      if (typeof user.name === 'string' && user.name !== '') name = user.name;
    },
  };
}
