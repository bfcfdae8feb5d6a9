/**
 * Auth plugins by name, websockify's class names accepted (also as `websockify.auth_plugins.X`). A new plugin is one
 * file in this folder plus one entry here.
 */
import { basicAuth } from './basic.js';
import { clientCertCnAuth } from './client-cert-cn.js';
import { expectOrigin } from './expect-origin.js';
import type { Authenticator } from './types.js';

export { customAuthenticator, type CustomAuthenticator } from './custom.js';

const PLUGINS: Record<string, (source: string) => Authenticator> = {
  BasicHTTPAuth: basicAuth,
  ExpectOrigin: expectOrigin,
  ClientCertCNAuth: clientCertCnAuth,
};

/** Plugin names wsproxy knows. */
export const AUTH_PLUGIN_NAMES: readonly string[] = Object.keys(PLUGINS);

/** Builds the named plugin; throws with a one-line message if the name or source is wrong. */
export function createAuthenticator(name: string, source: string): Authenticator {
  const short = name.replace(/^websockify\.auth_plugins\./, '');
  const canonical = AUTH_PLUGIN_NAMES.find((n) => n.toLowerCase() === short.toLowerCase());
  const factory = canonical === undefined ? undefined : PLUGINS[canonical];
  if (!factory) throw new Error(`unknown auth plugin ${name}`);
  return factory(source);
}
