/**
 * The configuration this process runs with: its command line and environment through `resolveConfig`, at start and
 * again on every reload (SIGHUP, `POST /reload`, a `workers` primary's SIGHUP), the `config` file read anew.
 */
import { resolveConfig } from '../config/index.js';
import type { CliArgs } from '../config/options/index.js';
import type { Config } from '../config/types.js';
import { ConfigError, ReloadError, SOURCE_CODES, UsageError } from '../errors.js';

/** What parsing the command line gives (the cli's `CommandLine`, seen only as far as a reload needs it). */
export type ParsedCommand = { kind: 'run'; args: CliArgs } | { kind: 'check' | 'help' | 'version' | 'cert' };

/** Validates `args` against this process's working directory and environment; throws `ConfigError`. */
export function configOf(args: CliArgs): Config {
  return resolveConfig(args, process.cwd(), process.env, process.stderr.isTTY === true);
}

/**
 * The configuration as a reload sees it: `parse` reads the original command line and environment again (with the
 * `config` file), then the same validation as at start. A mistake is a `ReloadError` with a stable reason code.
 */
export function configReader(parse: () => ParsedCommand): () => Config {
  return () => {
    let command;
    try {
      command = parse();
    } catch (err) {
      if (err instanceof UsageError) throw new ReloadError(SOURCE_CODES[err.source ?? 'invalid'], err.message);
      throw err;
    }
    if (command.kind !== 'run') throw new ReloadError('CONFIG_INVALID', 'the command line no longer starts a proxy');
    try {
      return configOf(command.args);
    } catch (err) {
      if (err instanceof ConfigError) throw new ReloadError('CONFIG_INVALID', err.message, { flag: err.flag });
      throw err;
    }
  };
}
