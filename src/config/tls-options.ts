/** TLS protocol settings beyond the certificate: profile, versions, suites, groups, chain, HSTS, tickets, reload. */
import { ConfigError } from '../errors.js';
import { DEFAULTS, type CliArgs } from './options/index.js';
import { flag } from './options/index.js';
import { oneOf, parseSeconds } from './parse.js';
import { requireFile, type ConfigProbes } from './probes.js';
import { checkRules, TLS_PROFILE_RULES } from './rules.js';
import type { TlsOptionsConfig } from './types.js';

const SSL_VERSIONS: Record<string, 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' | undefined> = {
  default: undefined,
  tlsv1_1: 'TLSv1.1',
  tlsv1_2: 'TLSv1.2',
  tlsv1_3: 'TLSv1.3',
};

function minVersion(args: CliArgs): TlsOptionsConfig['minVersion'] {
  const versionName = (args.sslVersion ?? 'default').toLowerCase();
  if (!(versionName in SSL_VERSIONS)) {
    const name = flag('sslVersion');
    throw new ConfigError(name, `${name}: '${args.sslVersion ?? ''}' is not one of default, tlsv1_1, tlsv1_2, tlsv1_3`);
  }
  return SSL_VERSIONS[versionName];
}

/** The cipher lists, each in its own syntax (`TLS_` names are TLS 1.3 suites) and accepted by OpenSSL. */
function checkCiphers(args: CliArgs, probes: ConfigProbes): void {
  if (args.sslCiphers !== undefined) {
    if (args.sslCiphers.split(':').some((c) => c.startsWith('TLS_')) || !probes.ciphersAccepted(args.sslCiphers)) {
      const name = flag('sslCiphers');
      throw new ConfigError(
        name,
        `${name}: OpenSSL accepts no TLS 1.2 cipher in '${args.sslCiphers}'; write e.g. ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256 (TLS 1.3 suites go in ${flag('tls13Ciphers')})`,
      );
    }
  }
  if (args.tls13Ciphers !== undefined) {
    const suites = args.tls13Ciphers.split(':');
    if (suites.some((c) => !c.startsWith('TLS_')) || !probes.ciphersAccepted(args.tls13Ciphers)) {
      const name = flag('tls13Ciphers');
      throw new ConfigError(
        name,
        `${name}: '${args.tls13Ciphers}' is not a list of TLS 1.3 suites; write e.g. TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256`,
      );
    }
  }
}

/** The key-exchange groups OpenSSL supports, of those asked for; none supported is a mistake. */
function ecdhCurve(text: string | undefined, probes: ConfigProbes): string | undefined {
  if (text === undefined) return undefined;
  const supported = text
    .split(/[:,\s]+/)
    .filter((g) => g.length > 0)
    .filter((group) => probes.groupSupported(group));
  if (supported.length === 0) {
    const name = flag('ecdhCurve');
    throw new ConfigError(name, `${name}: OpenSSL supports none of '${text}'; write e.g. X25519:P-256:P-384`);
  }
  return supported.join(':');
}

function hstsSeconds(text: string): number {
  if (!/^\s*\d{1,10}\s*$/.test(text)) {
    const name = flag('hsts');
    throw new ConfigError(name, `${name}: '${text}' is not a whole number of seconds (0 = off; 63072000 = two years)`);
  }
  return Number(text);
}

export function resolveTlsOptions(args: CliArgs, cwd: string, probes: ConfigProbes): TlsOptionsConfig {
  const profile = oneOf(args.tlsProfile ?? 'intermediate', ['intermediate', 'modern'], flag('tlsProfile'));
  const min = minVersion(args);
  checkRules(TLS_PROFILE_RULES, args);
  checkCiphers(args, probes);
  const curve = ecdhCurve(args.ecdhCurve, probes);
  const hsts = hstsSeconds(args.hsts ?? '0');
  const file = (key: 'dhparam' | 'chain', what: string): string | undefined => {
    const value = args[key];
    return value === undefined ? undefined : requireFile(probes, cwd, value, flag(key), what);
  };
  return {
    profile,
    minVersion: min,
    ciphers: args.sslCiphers,
    tls13Ciphers: args.tls13Ciphers,
    ecdhCurve: curve,
    dhparamFile: file('dhparam', 'a PEM DH parameters file (openssl dhparam -out dh.pem 2048)'),
    chainFile: file('chain', 'the PEM intermediate certificate(s)'),
    hstsSeconds: hsts,
    sessionTickets: args.sessionTickets ?? true,
    ticketRotateMs: parseSeconds(
      args.sessionTicketRotate ?? String(DEFAULTS.sessionTicketRotateSeconds),
      flag('sessionTicketRotate'),
    ),
    watchFiles: args.watchCerts ?? true,
  };
}
