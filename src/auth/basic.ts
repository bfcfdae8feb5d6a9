/**
 * `BasicHTTPAuth` (`authSource` user:password`): HTTP Basic credentials, compared in constant time. No or wrong
 * credentials → 401 with a `WWW-Authenticate` challenge; a header that is not well-formed Basic → 403 with a reason
 * (websockify closes silently there, because it catches the wrong exception).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../errors.js';
import type { AuthContext, AuthDecision, AuthPlugin, Authenticator } from './types.js';
import { flag } from '../config/options/index.js';

const CHALLENGE = { 'WWW-Authenticate': 'Basic realm="Websockify", charset="UTF-8"' };

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Builds the authenticator from `user:password` (the password may contain colons). */
export function basicAuth(source: string): Authenticator {
  const colon = source.indexOf(':');
  if (colon <= 0) throw new Error(`BasicHTTPAuth needs ${flag('authSource')} user:password`);
  const expected = digest(source);
  return {
    name: 'BasicHTTPAuth',
    check(ctx: AuthContext): Promise<AuthDecision> {
      const header = ctx.authorization?.trim();
      if (!header)
        return Promise.resolve({ kind: 'deny', status: 401, reason: 'credentials required', headers: CHALLENGE });
      const [scheme, value, ...rest] = header.split(/\s+/);
      if (scheme?.toLowerCase() !== 'basic' || value === undefined || rest.length > 0) {
        return Promise.resolve({ kind: 'deny', status: 403, reason: 'the Authorization header is not HTTP Basic' });
      }
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value))
        return Promise.resolve({ kind: 'deny', status: 403, reason: 'malformed Basic credentials' });
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const sep = decoded.indexOf(':');
      if (sep < 0)
        return Promise.resolve({ kind: 'deny', status: 403, reason: 'malformed Basic credentials (no colon)' });
      // Hash both sides to equal length, then compare in constant time (no early exit on the first differing byte).
      if (!timingSafeEqual(digest(decoded), expected)) {
        return Promise.resolve({
          kind: 'deny',
          status: 401,
          reason: 'wrong user name or password',
          headers: CHALLENGE,
        });
      }
      return Promise.resolve({ kind: 'allow', identity: decoded.slice(0, sep) });
    },
  };
}

export const basicAuthPlugin: AuthPlugin = {
  name: 'BasicHTTPAuth',
  aliases: ['websockify.auth_plugins.BasicHTTPAuth'],
  parseSource(text) {
    if (text.indexOf(':') <= 0)
      throw new ConfigError(
        flag('authSource'),
        `${flag('authPlugin')} BasicHTTPAuth needs ${flag('authSource')} user:password`,
      );
    return text;
  },
  create: basicAuth,
};
