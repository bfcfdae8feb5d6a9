/**
 * Auth plugins by name: the one list config validates `authPlugin`/`authSource` with and the server builds
 * from. websockify's class names are accepted (also as `websockify.auth_plugins.X`). A new plugin is one file in this
 * folder exporting an `AuthPlugin`, plus one entry here.
 */
import { findPlugin } from '../plugin-loader.js';
import { basicAuthPlugin } from './basic.js';
import { clientCertCnAuthPlugin } from './client-cert-cn.js';
import { expectOriginPlugin } from './expect-origin.js';
import type { AuthPlugin, Authenticator } from './types.js';

export { customAuthenticator, type CustomAuthenticator } from './custom.js';

/** Every built-in auth plugin, in the order error messages list them. */
export const AUTH_PLUGINS: readonly AuthPlugin[] = [basicAuthPlugin, expectOriginPlugin, clientCertCnAuthPlugin];

/** Plugin names wsproxy knows. */
export const AUTH_PLUGIN_NAMES: readonly string[] = AUTH_PLUGINS.map((p) => p.name);

/** The built-in plugin an `authPlugin` value names; undefined if none. */
export function findAuthPlugin(name: string): AuthPlugin | undefined {
  return findPlugin(AUTH_PLUGINS, name);
}

/** Builds the named plugin (its source already checked by its `parseSource`); throws if the name is unknown. */
export function createAuthenticator(name: string, source: string): Authenticator {
  const plugin = findAuthPlugin(name);
  if (!plugin) throw new Error(`unknown auth plugin ${name}`);
  return plugin.create(source);
}
