/** Where the proxy listens: the source positional, a unix socket or inetd's descriptor 0. */
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { CliArgs } from './options/index.js';
import { parseListenAddress } from './addresses.js';
import { flag } from './options/index.js';
import { checkRules, LISTEN_RULES } from './rules.js';
import type { ListenAddress } from './types.js';

/** The listen address, and the target positional that follows it (if any). */
export function resolveListen(
  args: CliArgs,
  cwd: string,
): { listen: ListenAddress; positionalTarget: string | undefined } {
  // With a unix socket or inetd there is no source positional (websockify's rule): the first one is the target.
  const noSource = args.unixListen !== undefined || args.inetd;
  checkRules(LISTEN_RULES, args);
  const [source, positionalTarget, ...rest] = noSource ? [undefined, ...args.positionals] : args.positionals;
  if (source === undefined && !noSource) {
    throw new ConfigError(
      'source_port',
      'missing the listen port: wsproxy [options] [source_addr:]source_port [target_addr:target_port]',
    );
  }
  if (rest.length > 0) {
    throw new ConfigError('target', `too many arguments ('${rest.join(' ')}'): give one listen address and one target`);
  }
  if (args.unixListen !== undefined) {
    if (!/^[0-7]{3,4}$/.test(args.unixListenMode)) {
      const name = flag('unixListenMode');
      throw new ConfigError(name, `${name}: '${args.unixListenMode}' is not an octal mode such as 600 or 660`);
    }
    const listen = {
      kind: 'unix',
      path: resolve(cwd, args.unixListen),
      mode: parseInt(args.unixListenMode, 8),
    } as const;
    return { listen, positionalTarget };
  }
  if (args.inetd) return { listen: { kind: 'inetd' }, positionalTarget };
  const listen = { ...parseListenAddress(source ?? ''), ...(args.preferIpv6 ? { preferIpv6: true } : {}) };
  return { listen, positionalTarget };
}
