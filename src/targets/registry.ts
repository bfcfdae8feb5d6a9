/**
 * Token plugins by name. websockify's class names (and their dotted `websockify.token_plugins.X` form) are accepted,
 * so a websockify command line works unchanged. A new source is one file in this folder plus one entry here.
 */
import type { Logger } from '../log.js';
import { tokenFileResolver } from './token-file.js';
import { jwtResolver } from './jwt.js';
import { redisResolver } from './redis.js';
import { tokenApiResolver } from './token-api.js';
import { tokenFileNameResolver } from './token-file-name.js';
import { unixSocketDirResolver } from './unix-socket-dir.js';
import type { TargetResolver } from './types.js';

export { customResolver } from './custom.js';

/** Plugin settings besides the source. */
export interface TokenPluginOptions {
  readonly jwtAudience?: string | undefined;
  readonly jwtIssuer?: string | undefined;
  readonly jwtAllowNoExp?: boolean | undefined;
}

type Factory = (source: string, log: Logger, options: TokenPluginOptions) => TargetResolver;

const PLUGINS: Record<string, Factory> = {
  TokenFile: (source, log) => tokenFileResolver(source, { watch: true, log }),
  ReadOnlyTokenFile: (source, log) => tokenFileResolver(source, { watch: false, log }),
  TokenFileName: (source) => tokenFileNameResolver(source),
  UnixDomainSocketDirectory: (source) => unixSocketDirResolver(source),
  BaseTokenAPI: (source, log) =>
    tokenApiResolver(source, { json: false, timeoutMs: 5_000, positiveTtlMs: 5_000, negativeTtlMs: 2_000, log }),
  TokenRedis: (source, log) => redisResolver(source, log),
  JWTTokenApi: (source, log, options) =>
    jwtResolver(source, {
      audience: options.jwtAudience,
      issuer: options.jwtIssuer,
      allowNoExp: options.jwtAllowNoExp,
      log,
    }),
  JSONTokenApi: (source, log) =>
    tokenApiResolver(source, { json: true, timeoutMs: 5_000, positiveTtlMs: 5_000, negativeTtlMs: 2_000, log }),
};

/** The plugin names wsproxy knows (for help text and error messages). */
export const TOKEN_PLUGIN_NAMES: readonly string[] = Object.keys(PLUGINS);

/** Normalises a plugin name as websockify users write it; undefined if unknown. */
export function canonicalTokenPlugin(name: string): string | undefined {
  const short = name.replace(/^websockify\.token_plugins\./, '');
  return TOKEN_PLUGIN_NAMES.find((n) => n.toLowerCase() === short.toLowerCase());
}

/** Builds the named plugin on `source`. */
export function createTokenResolver(
  name: string,
  source: string,
  log: Logger,
  options: TokenPluginOptions = {},
): TargetResolver {
  const canonical = canonicalTokenPlugin(name);
  const factory = canonical === undefined ? undefined : PLUGINS[canonical];
  if (!factory) throw new Error(`unknown token plugin ${name}`);
  return factory(source, log.child({ plugin: canonical }), options);
}
