/** Client certificates: the verify mode, the CA, CRL and depth they are checked with, and the allowed names. */
import { ConfigError } from '../errors.js';
import type { CliArgs } from './options/index.js';
import { flag } from './options/index.js';
import { oneOf, splitList } from './parse.js';
import { requireFile, type ConfigProbes } from './probes.js';
import { checkRules, CLIENT_CERT_RULES } from './rules.js';
import type { ClientCertConfig } from './types.js';

/**
 * An allowed-name pattern: a name, or `*.` followed by a name (one leftmost label, as RFC 6125 §6.4.3 allows for
 * server names). Checked here so a typo fails at start, not at the first client.
 */
export function checkAllowPattern(pattern: string): string {
  const body = pattern.startsWith('*.') ? pattern.slice(2) : pattern;
  if (body.length === 0 || body.includes('*') || /\s/.test(body)) {
    const name = flag('clientCertAllow');
    throw new ConfigError(name, `${name}: '${pattern}' is not a name or '*.domain' pattern`);
  }
  return pattern.toLowerCase();
}

function verifyDepth(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\s*\d{1,3}\s*$/.test(text)) {
    const name = flag('verifyDepth');
    throw new ConfigError(name, `${name}: '${text}' is not a whole number from 0 to 999 (intermediate CAs allowed)`);
  }
  return Number(text);
}

/** The client-certificate settings; undefined when client certificates are off. */
export function resolveClientCert(args: CliArgs, cwd: string, probes: ConfigProbes): ClientCertConfig | undefined {
  const mode = oneOf(args.verifyClient ?? 'off', ['off', 'optional', 'required'], flag('verifyClient'));
  const allow = splitList(args.clientCertAllow).map(checkAllowPattern);
  checkRules(CLIENT_CERT_RULES, args);
  const depth = verifyDepth(args.verifyDepth);
  if (mode === 'off') return undefined;
  const file = (key: 'cafile' | 'crl', what: string): string | undefined => {
    const value = args[key];
    return value === undefined ? undefined : requireFile(probes, cwd, value, flag(key), what);
  };
  return {
    mode,
    caFile: file('cafile', 'the PEM CA certificate(s) that issue client certificates'),
    crlFile: file('crl', 'a PEM certificate revocation list from the client CA'),
    verifyDepth: depth,
    allowPlain: args.allowPlainWithVerifyClient ?? false,
    allow,
  };
}
