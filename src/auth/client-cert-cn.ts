/**
 * `ClientCertCNAuth` (`authSource` 'alice bob'`, websockify's space-separated CN list): the upgrade is allowed only
 * when the TLS client certificate was *verified* at the handshake and its subject CN is in the list. The identity comes
 * from the TLS socket (AuthContext.peer), never from a header: websockify strips `SSL_*` headers case-sensitively, so a
 * client's own `ssl_client_s_dn_cn` header wins there (websockify.md §b.10.2).
 */
import { ConfigError } from '../errors.js';
import type { AuthContext, AuthDecision, AuthPlugin, Authenticator } from './types.js';
import { flag } from '../config/options/index.js';

/** Builds the authenticator from the allowed CNs (whitespace- or comma-separated; compared exactly, as websockify). */
export function clientCertCnAuth(source: string): Authenticator {
  const allowed = new Set(source.split(/[\s,]+/).filter((cn) => cn.length > 0));
  if (allowed.size === 0) throw new Error(`ClientCertCNAuth needs ${flag('authSource')} 'CN [more CNs]'`);
  return {
    name: 'ClientCertCNAuth',
    check(ctx: AuthContext): Promise<AuthDecision> {
      const peer = ctx.peer;
      // Gate on the verification result, not on a CN being present: in optional mode Node shows an untrusted CN too.
      if (peer === undefined || !peer.authorized) {
        return Promise.resolve({ kind: 'deny', status: 403, reason: 'no verified client certificate' });
      }
      if (peer.cn === undefined || !allowed.has(peer.cn)) {
        return Promise.resolve({ kind: 'deny', status: 403, reason: 'client certificate CN not allowed' });
      }
      return Promise.resolve({ kind: 'allow', identity: peer.cn });
    },
  };
}

export const clientCertCnAuthPlugin: AuthPlugin = {
  name: 'ClientCertCNAuth',
  aliases: ['websockify.auth_plugins.ClientCertCNAuth'],
  parseSource(text, ctx) {
    if (text.trim() === '') {
      throw new ConfigError(
        flag('authSource'),
        `${flag('authPlugin')} ClientCertCNAuth needs ${flag('authSource')} 'alice bob' (the allowed certificate CNs)`,
      );
    }
    if (!ctx.clientCerts) {
      throw new ConfigError(
        flag('authPlugin'),
        `${flag('authPlugin')} ClientCertCNAuth needs client certificates: add ${flag('verifyClient')} [optional|required] ${flag('cafile')} CA.pem`,
      );
    }
    return text;
  },
  create: clientCertCnAuth,
};
