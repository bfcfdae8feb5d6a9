/**
 * Token plugins by name: the one list config validates `tokenPlugin`/`tokenSource` with and the server builds
 * from. websockify's class names (and their dotted `websockify.token_plugins.X` form) are accepted, so a websockify
 * command line works unchanged. A new source is one file in this folder exporting a `TokenPlugin`, plus one entry here.
 */
import type { Logger } from '../log.js';
import { findPlugin } from '../plugin-loader.js';
import { jwtTokenApiPlugin } from './jwt.js';
import { tokenRedisPlugin } from './redis.js';
import { baseTokenApiPlugin, jsonTokenApiPlugin } from './token-api.js';
import { tokenFileNamePlugin } from './token-file-name.js';
import { readOnlyTokenFilePlugin, tokenFilePlugin } from './token-file.js';
import type { TargetResolver, TokenPlugin, TokenPluginOptions } from './types.js';
import { unixSocketDirPlugin } from './unix-socket-dir.js';

export { customResolver } from './custom.js';
export type { TokenPluginOptions } from './types.js';

/** Every built-in token plugin, in the order error messages list them. */
export const TOKEN_PLUGINS: readonly TokenPlugin[] = [
  tokenFilePlugin,
  readOnlyTokenFilePlugin,
  tokenFileNamePlugin,
  unixSocketDirPlugin,
  baseTokenApiPlugin,
  jsonTokenApiPlugin,
  jwtTokenApiPlugin,
  tokenRedisPlugin,
];

/** The plugin names wsproxy knows (for help text and error messages). */
export const TOKEN_PLUGIN_NAMES: readonly string[] = TOKEN_PLUGINS.map((p) => p.name);

/** The built-in plugin a `tokenPlugin` value names; undefined if none. */
export function findTokenPlugin(name: string): TokenPlugin | undefined {
  return findPlugin(TOKEN_PLUGINS, name);
}

/** Normalises a plugin name as websockify users write it; undefined if unknown. */
export function canonicalTokenPlugin(name: string): string | undefined {
  return findTokenPlugin(name)?.name;
}

/** Builds the named plugin on `source` (already checked by its `parseSource`). */
export function createTokenResolver(
  name: string,
  source: string,
  log: Logger,
  options: TokenPluginOptions = {},
): TargetResolver {
  const plugin = findTokenPlugin(name);
  if (!plugin) throw new Error(`unknown token plugin ${name}`);
  return plugin.create(source, { ...options, log: log.child({ plugin: plugin.name }) });
}
