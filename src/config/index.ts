/**
 * `resolveConfig`: command-line values (`CliArgs`) → the typed `Config` every stage reads. Validation happens here,
 * once, with one-line messages that name the option and the fix (`ConfigError`). Nothing touches the network; the
 * files a flag names are checked through the injected probes (real disk and OpenSSL by default).
 */
import type { CliArgs } from './options/index.js';
import { resolveAdmin } from './admin.js';
import { resolveAuth } from './auth.js';
import { flag } from './options/index.js';
import { resolveAllowOrigins, resolveHttpUpstream, resolveWebCsp, resolveWebRoot } from './http.js';
import { resolveLimits } from './limits.js';
import { resolveListen } from './listen.js';
import { resolveLifecycle, resolveLog, resolveRecord, resolveWorkerCount } from './ops.js';
import { oneOf } from './parse.js';
import { resolveClientAddress, resolvePolicy } from './policy.js';
import { realProbes, type ConfigProbes } from './probes.js';
import { resolveProcess } from './process.js';
import { checkRules, PROCESS_RULES } from './rules.js';
import { resolveStateDir, resolveTokenHashKey } from './state.js';
import { resolveTargetTls } from './target-tls.js';
import { resolveTargets } from './targets.js';
import { resolveTls } from './tls.js';
import type { Config } from './types.js';

export { realProbes, type ConfigProbes } from './probes.js';

/**
 * Validates and normalises command-line values. `cwd` resolves relative paths; `env` supplies the state directory
 * default; `probes` answer the file and OpenSSL questions. The sections are resolved in the order their mistakes are
 * reported. Throws `ConfigError` with a one-line message.
 */
export function resolveConfig(
  args: CliArgs,
  cwd: string,
  env: Readonly<Record<string, string | undefined>> = {},
  stderrIsTty = false,
  probes: ConfigProbes = realProbes,
): Config {
  const { listen, positionalTarget } = resolveListen(args, cwd);
  const { targets, wrap } = resolveTargets(args, positionalTarget, cwd, probes);
  const stateDir = resolveStateDir(args, cwd, env, probes);
  const tls = resolveTls(args, cwd, stateDir, probes);
  const webRoot = resolveWebRoot(args, cwd, probes);
  const log = resolveLog(args, cwd, stderrIsTty);
  const recordPrefix = resolveRecord(args, cwd, probes);
  checkRules(PROCESS_RULES, args);
  const textFrames = oneOf(args.textFrames, ['reject', 'binary'], flag('textFrames'));
  const workers = resolveWorkerCount(args, probes.cores());
  return {
    listen,
    targets,
    workers,
    textFrames,
    traffic: args.traffic,
    targetTls: resolveTargetTls(args, cwd, targets, probes),
    ...resolveHttpUpstream(args),
    auth: resolveAuth(args, cwd, probes),
    recordPrefix,
    lifecycle: resolveLifecycle(args),
    admin: resolveAdmin(args, cwd, probes),
    tls,
    webRoot,
    ...resolveWebCsp(args),
    allowOrigins: resolveAllowOrigins(args),
    limits: resolveLimits(args),
    log,
    clientAddress: resolveClientAddress(args),
    policy: resolvePolicy(args),
    tokenHashKey: resolveTokenHashKey(args, cwd, stateDir, probes),
    process: resolveProcess(args, cwd, wrap),
  };
}
