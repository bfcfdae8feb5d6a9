/** The auth plugin (built in or the operator's module) and whether page requests need it too. */
import { resolve } from 'node:path';
import { AUTH_PLUGIN_NAMES, findAuthPlugin } from '../auth/registry.js';
import { ConfigError } from '../errors.js';
import { isModulePath } from '../plugin-loader.js';
import type { CliArgs } from './options/index.js';
import { flag } from './options/index.js';
import type { ConfigProbes } from './probes.js';
import { AUTH_RULES, checkRules } from './rules.js';
import type { AuthConfig } from './types.js';

export function resolveAuth(args: CliArgs, cwd: string, probes: ConfigProbes): AuthConfig | undefined {
  checkRules(AUTH_RULES, args);
  if (args.authPlugin === undefined) return undefined;
  const name = flag('authPlugin');
  if (isModulePath(args.authPlugin)) {
    const file = resolve(cwd, args.authPlugin);
    if (!probes.isFile(file))
      throw new ConfigError(
        name,
        `${name}: '${file}' is not a file; give the path of an ES module whose default export checks requests (see README)`,
      );
    return { plugin: file, source: args.authSource ?? '', webAuth: args.webAuth, custom: true };
  }
  const plugin = findAuthPlugin(args.authPlugin);
  if (plugin === undefined) {
    throw new ConfigError(
      name,
      `${name}: '${args.authPlugin}' is not available; choose one of ${AUTH_PLUGIN_NAMES.join(', ')}`,
    );
  }
  const source = plugin.parseSource(args.authSource ?? '', { clientCerts: (args.verifyClient ?? 'off') !== 'off' });
  return { plugin: plugin.name, source, webAuth: args.webAuth };
}
