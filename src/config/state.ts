/** The state directory (generated certificate, token-hash key) and the token-hash key file. */
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { CliArgs } from './options/index.js';
import { flag } from './options/index.js';
import { realProbes, type ConfigProbes } from './probes.js';

/** Default state directory: `$XDG_STATE_HOME/wsproxy`, else `~/.local/state/wsproxy`. */
export function defaultStateDir(
  env: Readonly<Record<string, string | undefined>>,
  probes: Pick<ConfigProbes, 'homedir'> = realProbes,
): string {
  // The XDG spec says a relative XDG_STATE_HOME is invalid and must be ignored.
  const xdg = env['XDG_STATE_HOME'];
  const base = xdg && isAbsolute(xdg) ? xdg : join(env['HOME'] || probes.homedir(), '.local', 'state');
  return join(base, 'wsproxy');
}

/** The given state directory against `cwd`, else the default. */
export function resolveStateDir(
  args: CliArgs,
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
  probes: ConfigProbes,
): string {
  return resolve(cwd, args.stateDir ?? defaultStateDir(env, probes));
}

/** The given token-hash key file (which must be a file), else `<state dir>/token-hash.key`, made when first needed. */
export function resolveTokenHashKey(
  args: CliArgs,
  cwd: string,
  stateDir: string,
  probes: ConfigProbes,
): { file: string; given: boolean } {
  if (args.tokenHashKeyFile === undefined) return { file: join(stateDir, 'token-hash.key'), given: false };
  const file = resolve(cwd, args.tokenHashKeyFile);
  if (!probes.isFile(file)) {
    const name = flag('tokenHashKeyFile');
    throw new ConfigError(
      name,
      `${name}: '${file}' is not a file; put a random secret in it (e.g. openssl rand -hex 32 > FILE)`,
    );
  }
  return { file, given: true };
}
