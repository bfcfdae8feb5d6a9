/**
 * How sessions find their target: one fixed target, a token plugin (built in or the operator's module), the demo echo
 * service, or a wrapped program's address. Token plugin names and sources are checked with the plugin list.
 */
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { isModulePath } from '../plugin-loader.js';
import { TOKEN_PLUGIN_NAMES, findTokenPlugin } from '../targets/registry.js';
import type { CliArgs } from './options/index.js';
import { parseTargetAddress } from './addresses.js';
import { flag } from './options/index.js';
import type { ConfigProbes } from './probes.js';
import { resolveWrap } from './process.js';
import { checkRules, JWT_RULES, TARGET_SOURCE_RULES, TOKEN_FROM_RULES } from './rules.js';
import type { TargetSource, WrapConfig } from './types.js';

/** The target source and the wrapped program (whose address is the target). */
export function resolveTargets(
  args: CliArgs,
  positionalTarget: string | undefined,
  cwd: string,
  probes: ConfigProbes,
): { targets: TargetSource; wrap: WrapConfig | undefined } {
  if (args.unixTarget !== undefined && positionalTarget !== undefined) {
    const name = flag('unixTarget');
    throw new ConfigError(name, `${name} and a target ('${positionalTarget}') exclude each other; give one`);
  }
  const wrap = resolveWrap(args, positionalTarget);
  const target =
    wrap !== undefined
      ? args.wrapTarget
      : args.unixTarget !== undefined
        ? `unix:${resolve(cwd, args.unixTarget)}`
        : positionalTarget;
  checkRules(TARGET_SOURCE_RULES, args);
  return { targets: chooseTargets(args, target, cwd, probes), wrap };
}

function chooseTargets(args: CliArgs, target: string | undefined, cwd: string, probes: ConfigProbes): TargetSource {
  const tokenPlugin = args.tokenPlugin ?? (args.targetConfig !== undefined ? 'TokenFile' : undefined);
  if (args.demo) {
    const name = flag('demo');
    if (target !== undefined)
      throw new ConfigError(name, `${name} runs its own echo target; drop '${target}' or drop ${name}`);
    if (tokenPlugin !== undefined)
      throw new ConfigError(name, `${name} runs its own echo target; drop ${flag('tokenPlugin')} or drop ${name}`);
    return { kind: 'demo' };
  }
  if (tokenPlugin !== undefined && isModulePath(tokenPlugin))
    return customTokenPlugin(args, tokenPlugin, target, cwd, probes);
  if (tokenPlugin !== undefined) return builtinTokenPlugin(args, tokenPlugin, target, cwd);
  if (target === undefined) {
    throw new ConfigError(
      'target',
      `missing the target: give target_addr:target_port (e.g. localhost:5900), ${flag('tokenPlugin')}, or ${flag('demo')} for a built-in echo target`,
    );
  }
  return { kind: 'fixed', target: parseTargetAddress(target) };
}

function refuseTarget(target: string | undefined): void {
  if (target !== undefined)
    throw new ConfigError(
      'target',
      `a target ('${target}') and ${flag('tokenPlugin')} exclude each other: the token chooses the target`,
    );
}

const tokenFrom = (args: CliArgs): 'host' | 'path' | 'query' =>
  args.hostToken ? 'host' : args.tokenFromPath ? 'path' : 'query';

/** A module path: the operator's own resolver (loaded at start by targets/custom.ts). */
function customTokenPlugin(
  args: CliArgs,
  tokenPlugin: string,
  target: string | undefined,
  cwd: string,
  probes: ConfigProbes,
): TargetSource {
  const file = resolve(cwd, tokenPlugin);
  if (!probes.isFile(file)) {
    const name = flag('tokenPlugin');
    throw new ConfigError(
      name,
      `${name}: '${file}' is not a file; give the path of an ES module whose default export resolves tokens (see README)`,
    );
  }
  refuseTarget(target);
  checkRules(TOKEN_FROM_RULES, args);
  checkRules(JWT_RULES, args);
  return { kind: 'token', plugin: file, custom: true, source: args.tokenSource ?? '', from: tokenFrom(args) };
}

/** A plugin from the list; its descriptor checks the source. */
function builtinTokenPlugin(args: CliArgs, tokenPlugin: string, target: string | undefined, cwd: string): TargetSource {
  const name = flag('tokenPlugin');
  const plugin = findTokenPlugin(tokenPlugin);
  if (plugin === undefined) {
    throw new ConfigError(
      name,
      `${name}: '${tokenPlugin}' is not available; choose one of ${TOKEN_PLUGIN_NAMES.join(', ')}`,
    );
  }
  refuseTarget(target);
  const tokenSource = args.tokenSource ?? args.targetConfig;
  if (tokenSource === undefined || tokenSource === '') {
    throw new ConfigError(
      flag('tokenSource'),
      `${name} ${plugin.name} needs ${flag('tokenSource')} (a file or directory of 'token: host:port' lines)`,
    );
  }
  checkRules(TOKEN_FROM_RULES, args);
  const source = plugin.parseSource(tokenSource, { cwd });
  if (plugin.name !== 'JWTTokenApi') checkRules(JWT_RULES, args);
  return {
    kind: 'token',
    plugin: plugin.name,
    source,
    from: tokenFrom(args),
    ...(args.tokenJwtAudience === undefined ? {} : { jwtAudience: args.tokenJwtAudience }),
    ...(args.tokenJwtIssuer === undefined ? {} : { jwtIssuer: args.tokenJwtIssuer }),
    ...(args.tokenJwtAllowNoExp === true ? { jwtAllowNoExp: true } : {}),
  };
}
