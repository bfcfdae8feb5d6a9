/** Process-level options only process/ acts on: a wrapped program, daemonising, the pid file and syslog. */
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { splitHostPort } from '../net/address.js';
import type { CliArgs } from './options/index.js';
import { parsePort, parseTargetAddress } from './addresses.js';
import { flag } from './options/index.js';
import { oneOf } from './parse.js';
import { checkRules, SYSLOG_RULES, WRAP_RULES } from './rules.js';
import type { ProcessConfig, SyslogConfig, SyslogDestination, WrapConfig } from './types.js';

/** Wrap mode: a command after `--` needs a wrap target (no LD_PRELOAD port rebinding as in websockify). */
export function resolveWrap(args: CliArgs, positionalTarget: string | undefined): WrapConfig | undefined {
  const mode = oneOf(args.wrapMode ?? 'exit', ['exit', 'ignore', 'respawn'], flag('wrapMode'));
  checkRules(WRAP_RULES, args);
  const [program, ...rest] = args.wrapCommand ?? [];
  if (program === undefined || program === '') return undefined;
  const name = flag('wrapTarget');
  if (args.wrapTarget === undefined) {
    throw new ConfigError(
      name,
      `wrapping '${program}' needs ${name} host:port (where it listens), e.g. ${name} 127.0.0.1:5901`,
    );
  }
  if (positionalTarget !== undefined || args.unixTarget !== undefined) {
    throw new ConfigError(
      name,
      `a target ('${positionalTarget ?? args.unixTarget ?? ''}') and a wrapped program exclude each other; the program's address is ${name}`,
    );
  }
  try {
    parseTargetAddress(args.wrapTarget);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(name, `${name}: ${err.message}`);
    throw err;
  }
  return { command: [program, ...rest], mode };
}

/** Syslog: `host:port` is UDP (websockify's rule: a colon means host:port), anything else a unix socket path. */
export function resolveSyslog(args: CliArgs, cwd: string): SyslogConfig | undefined {
  checkRules(SYSLOG_RULES, args);
  if (args.syslog === undefined) return undefined;
  let destination: SyslogDestination;
  if (args.syslog.includes(':')) {
    const name = flag('syslog');
    const { host, port } = splitHostPort(args.syslog);
    if (host === undefined || host === '')
      throw new ConfigError(name, `${name}: '${args.syslog}' needs a host, e.g. 127.0.0.1:514 or /dev/log`);
    destination = { kind: 'udp', host, port: parsePort(port, name, false) };
  } else {
    destination = { kind: 'unix', path: resolve(cwd, args.syslog) };
  }
  return { destination, legacy: args.legacySyslog ?? false, facility: args.daemon ? 'daemon' : 'user' };
}

/** The process section, once the wrapped program is known. */
export function resolveProcess(args: CliArgs, cwd: string, wrap: WrapConfig | undefined): ProcessConfig {
  return {
    wrap,
    daemon: args.daemon ?? false,
    pidFile: args.pidFile === undefined ? undefined : resolve(cwd, args.pidFile),
    syslog: resolveSyslog(args, cwd),
  };
}
