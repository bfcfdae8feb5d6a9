/** TLS towards the target: verification, the name to check, CA and client certificate files. */
import { ConfigError } from '../errors.js';
import type { CliArgs } from './options/index.js';
import { flag } from './options/index.js';
import { oneOf } from './parse.js';
import { requireFile, type ConfigProbes } from './probes.js';
import { checkRules, TARGET_KEY_RULES, TARGET_TLS_RULES } from './rules.js';
import type { TargetSource, TargetTlsConfig } from './types.js';

/** The target TLS section; undefined when the target is spoken to in plain TCP. */
export function resolveTargetTls(
  args: CliArgs,
  cwd: string,
  targets: TargetSource,
  probes: ConfigProbes,
): TargetTlsConfig | undefined {
  checkRules(TARGET_TLS_RULES, args);
  if (!args.sslTarget) return undefined;
  const name = flag('sslTarget');
  if (targets.kind === 'fixed' && targets.target.kind === 'unix') {
    throw new ConfigError(name, `${name} needs a host:port target; a unix socket target is relayed as is`);
  }
  if (targets.kind === 'demo')
    throw new ConfigError(name, `${name} does not go with ${flag('demo')} (its echo target speaks plain TCP)`);
  const verify = oneOf(args.targetVerify ?? 'required', ['required', 'none'], flag('targetVerify'));
  checkRules(TARGET_KEY_RULES, args);
  if (args.targetServername !== undefined && !/^[A-Za-z0-9.-]{1,253}$/.test(args.targetServername)) {
    const servername = flag('targetServername');
    throw new ConfigError(servername, `${servername}: '${args.targetServername}' is not a host name`);
  }
  const file = (key: 'targetCa' | 'targetCert' | 'targetKey', what: string): string | undefined => {
    const value = args[key];
    return value === undefined ? undefined : requireFile(probes, cwd, value, flag(key), what);
  };
  return {
    verify,
    caFile: file('targetCa', 'the PEM CA certificate(s) that signed the target certificate'),
    servername: args.targetServername,
    certFile: file('targetCert', `a PEM client certificate (with its key, or add ${flag('targetKey')})`),
    keyFile: file('targetKey', `the PEM key of ${flag('targetCert')}`),
  };
}
