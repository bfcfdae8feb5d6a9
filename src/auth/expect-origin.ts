/**
 * `ExpectOrigin` (`authSource` "https://a.example https://b.example"`): the request's `Origin` must be one of the
 * listed origins, compared after normalisation (case, default ports). No Origin → 403, as websockify does.
 */
import { ConfigError } from '../errors.js';
import type { AuthContext, AuthDecision, AuthPlugin, Authenticator } from './types.js';
import { flag } from '../config/options/index.js';

function normalise(origin: string): string {
  try {
    return new URL(origin.trim()).origin.toLowerCase();
  } catch {
    return origin.trim().toLowerCase();
  }
}

/** Builds the authenticator from a space-separated list of origins. */
export function expectOrigin(source: string): Authenticator {
  const allowed = new Set(
    source
      .split(/[\s,]+/)
      .filter((s) => s.length > 0)
      .map(normalise),
  );
  if (allowed.size === 0) throw new Error(`ExpectOrigin needs ${flag('authSource')} with one or more origins`);
  return {
    name: 'ExpectOrigin',
    check(ctx: AuthContext): Promise<AuthDecision> {
      if (ctx.origin !== undefined && allowed.has(normalise(ctx.origin))) return Promise.resolve({ kind: 'allow' });
      return Promise.resolve({ kind: 'deny', status: 403, reason: 'Invalid Origin' });
    },
  };
}

export const expectOriginPlugin: AuthPlugin = {
  name: 'ExpectOrigin',
  aliases: ['websockify.auth_plugins.ExpectOrigin'],
  parseSource(text) {
    if (text.trim() === '') {
      throw new ConfigError(
        flag('authSource'),
        `${flag('authPlugin')} ExpectOrigin needs ${flag('authSource')} 'https://allowed.example [more origins]'`,
      );
    }
    return text;
  },
  create: expectOrigin,
};
