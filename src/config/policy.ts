/** Limits and policy (per-token cap, rates, target and Host allowlists, revalidation) and real client addresses. */
import { ConfigError } from '../errors.js';
import { parseAddressRange, type AddressRange } from '../policy/cidr.js';
import { DEFAULTS, type CliArgs } from './options/index.js';
import { flag } from './options/index.js';
import { oneOf, parseRateOption, parseSeconds, splitList } from './parse.js';
import { checkRules, CLIENT_ADDRESS_RULES } from './rules.js';
import type { ClientAddressConfig, PolicyConfig } from './types.js';

function ranges(values: readonly string[], key: 'trustedProxy' | 'allowTarget', withPorts: boolean): AddressRange[] {
  return values.map((t) => {
    const r = parseAddressRange(t, withPorts);
    if (typeof r === 'string') throw new ConfigError(flag(key), `${flag(key)}: ${r}`);
    return r;
  });
}

/** Host names as the Host check compares them: lowercase, no brackets, no final dot; `any` alone turns it off. */
function allowedHosts(values: readonly string[] | undefined): string[] {
  const name = flag('allowedHost');
  const hosts = splitList(values).map((h) => {
    const host = h
      .toLowerCase()
      .replace(/^\[(.*)\]$/, '$1')
      .replace(/\.$/, '');
    if (!/^[a-z0-9.:_-]+$/.test(host))
      throw new ConfigError(name, `${name}: '${h}' is not a host name or address (no port, no scheme)`);
    return host;
  });
  if (hosts.includes('any') && hosts.length > 1) {
    throw new ConfigError(
      name,
      `${name}: 'any' turns the Host check off and cannot be combined with names; give either 'any' or the names`,
    );
  }
  return hosts;
}

export function resolvePolicy(args: CliArgs): PolicyConfig {
  const capText = args.maxSessionsPerToken ?? '0';
  if (!/^\s*\d+\s*$/.test(capText)) {
    const name = flag('maxSessionsPerToken');
    throw new ConfigError(name, `${name}: '${capText}' is not a whole number (0 = no cap)`);
  }
  const rateLimit = parseRateOption(args.rateLimit, flag('rateLimit'));
  const authFailureLimit = parseRateOption(
    args.authFailureLimit ?? DEFAULTS.authFailureLimit,
    flag('authFailureLimit'),
  );
  const allowTargets = ranges(splitList(args.allowTarget, /\s+/), 'allowTarget', true);
  return {
    maxSessionsPerToken: Number(capText),
    rateLimit,
    authFailureLimit,
    allowTargets,
    allowedHosts: allowedHosts(args.allowedHost),
    revalidateIntervalMs: parseSeconds(args.revalidateInterval ?? '0', flag('revalidateInterval'), true),
  };
}

export function resolveClientAddress(args: CliArgs): ClientAddressConfig {
  const trustedProxies = ranges(splitList(args.trustedProxy), 'trustedProxy', false);
  checkRules(CLIENT_ADDRESS_RULES, args);
  const out = args.proxyProtocolOut;
  return {
    proxyProtocolIn: args.proxyProtocolIn ?? false,
    trustedProxies,
    trustForwarded: args.trustForwarded ?? false,
    proxyProtocolOut: out === undefined ? undefined : oneOf<'v1' | 'v2'>(out, ['v1', 'v2'], flag('proxyProtocolOut')),
  };
}
