/**
 * Cross-field rules as data: which options need another, and which exclude each other. Each section resolver checks
 * its list with `checkRules` where the options are read, so the first mistake reported stays the same one.
 */
import { ConfigError } from '../errors.js';
import type { CliArgs, OptionKey } from './options/index.js';
import { flag as f } from './options/index.js';
import { parseSeconds, splitList } from './parse.js';

/** An option that is also a CliArgs field (not help, version or config). */
type ArgKey = Extract<OptionKey, keyof CliArgs>;

export interface Rule {
  /** The option the error names. */
  readonly flag: ArgKey;
  /** True when the arguments break the rule. */
  readonly broken: (a: CliArgs) => boolean;
  readonly message: string | ((a: CliArgs) => string);
}

/** Throws a ConfigError for the first broken rule, naming its option. */
export function checkRules(rules: readonly Rule[], args: CliArgs): void {
  const rule = rules.find((r) => r.broken(args));
  if (rule === undefined) return;
  throw new ConfigError(f(rule.flag), typeof rule.message === 'string' ? rule.message : rule.message(args));
}

/** Whether an option was given: a value, or a switch that is on. */
const set = (a: CliArgs, key: ArgKey): boolean => a[key] !== undefined && a[key] !== false;
const wrapped = (a: CliArgs): boolean => {
  const program = (a.wrapCommand ?? [])[0];
  return program !== undefined && program !== '';
};
const tokenPluginOff = (a: CliArgs): boolean => a.tokenPlugin === undefined && a.targetConfig === undefined;
const clientCertsOff = (a: CliArgs): boolean => (a.verifyClient ?? 'off') === 'off';
const modern = (a: CliArgs): boolean => (a.tlsProfile ?? 'intermediate') === 'modern';

function needs(option: ArgKey, other: ArgKey, example: string): Rule {
  return {
    flag: option,
    broken: (a) => set(a, option) && !set(a, other),
    message: `${f(option)} needs ${f(other)} (e.g. ${f(other)} ${example})`,
  };
}
const needsTokenPlugin = (option: ArgKey): Rule => ({
  flag: option,
  broken: (a) => tokenPluginOff(a) && set(a, option),
  message: `${f(option)} needs ${f('tokenPlugin')} (e.g. ${f('tokenPlugin')} TokenFile)`,
});
const needsSslTarget = (option: ArgKey): Rule => ({
  flag: option,
  broken: (a) => !a.sslTarget && a[option] !== undefined,
  message: `${f(option)} goes with ${f('sslTarget')} (TLS to the target); add ${f('sslTarget')}`,
});
const checksClientCerts = (option: ArgKey): Rule => ({
  flag: option,
  broken: (a) => clientCertsOff(a) && a[option] !== undefined,
  message: `${f(option)} checks client certificates; add ${f('verifyClient')} [optional|required]`,
});

/** Where the proxy listens. */
export const LISTEN_RULES: readonly Rule[] = [
  {
    flag: 'inetd',
    broken: (a) => a.unixListen !== undefined && a.inetd,
    message: `${f('inetd')} and ${f('unixListen')} exclude each other`,
  },
];

/** A wrapped program (after the mode is known to be valid). */
export const WRAP_RULES: readonly Rule[] = [
  {
    flag: 'wrapTarget',
    broken: (a) => !wrapped(a) && a.wrapTarget !== undefined,
    message: `${f('wrapTarget')} goes with a program to wrap: wsproxy [options] PORT -- COMMAND [ARGS...]`,
  },
];

/** How targets are chosen. */
export const TARGET_SOURCE_RULES: readonly Rule[] = [
  {
    flag: 'targetConfig',
    broken: (a) => a.targetConfig !== undefined && (a.tokenPlugin !== undefined || a.tokenSource !== undefined),
    message: `${f('targetConfig')} is the old spelling of ${f('tokenPlugin')} TokenFile ${f('tokenSource')} FILE; give one or the other`,
  },
  needsTokenPlugin('tokenSource'),
  needsTokenPlugin('hostToken'),
  needsTokenPlugin('tokenFromPath'),
  {
    flag: 'wrapTarget',
    broken: (a) => wrapped(a) && (a.demo || !tokenPluginOff(a)),
    message: `wrapping a program (-- COMMAND) relays to ${f('wrapTarget')}; drop ${f('demo')}/${f('tokenPlugin')}`,
  },
];

/** Where the token comes from, once a token plugin is chosen. */
export const TOKEN_FROM_RULES: readonly Rule[] = [
  {
    flag: 'hostToken',
    broken: (a) => a.hostToken && a.tokenFromPath,
    message: `${f('hostToken')} and ${f('tokenFromPath')} exclude each other; pick where the token comes from`,
  },
];

/** The JWT options; checked only where the plugin is not JWTTokenApi. */
export const JWT_RULES: readonly Rule[] = [
  {
    flag: 'tokenJwtAudience',
    broken: (a) => a.tokenJwtAudience !== undefined || a.tokenJwtIssuer !== undefined || a.tokenJwtAllowNoExp === true,
    message: `${f('tokenJwtAudience')}, ${f('tokenJwtIssuer')} and ${f('tokenJwtAllowNoExp')} go with ${f('tokenPlugin')} JWTTokenApi`,
  },
];

/** Client-certificate options without client certificates (after the mode and patterns are valid). */
export const CLIENT_CERT_RULES: readonly Rule[] = [
  checksClientCerts('cafile'),
  checksClientCerts('crl'),
  checksClientCerts('verifyDepth'),
  {
    flag: 'clientCertAllow',
    broken: (a) => clientCertsOff(a) && splitList(a.clientCertAllow).length > 0,
    message: `${f('clientCertAllow')} needs ${f('verifyClient')} [optional|required]`,
  },
  {
    flag: 'allowPlainWithVerifyClient',
    broken: (a) => clientCertsOff(a) && a.allowPlainWithVerifyClient === true,
    message: `${f('allowPlainWithVerifyClient')} only matters with ${f('verifyClient')}`,
  },
];

/** The modern profile is TLS 1.3 only; checked after the version name is known to be valid. */
export const TLS_PROFILE_RULES: readonly Rule[] = [
  {
    flag: 'sslVersion',
    broken: (a) => modern(a) && !['default', 'tlsv1_3'].includes((a.sslVersion ?? 'default').toLowerCase()),
    message: (a) =>
      `${f('sslVersion')} ${(a.sslVersion ?? 'default').toLowerCase()} contradicts ${f('tlsProfile')} modern (TLS 1.3 only); drop one of them`,
  },
  {
    flag: 'sslCiphers',
    broken: (a) => modern(a) && a.sslCiphers !== undefined,
    message: `${f('sslCiphers')} sets TLS 1.2 suites, but ${f('tlsProfile')} modern allows TLS 1.3 only; use ${f('tls13Ciphers')}`,
  },
];

/** TLS to the target: its options need it. */
export const TARGET_TLS_RULES: readonly Rule[] = [
  needsSslTarget('targetCa'),
  needsSslTarget('targetServername'),
  needsSslTarget('targetVerify'),
  needsSslTarget('targetCert'),
  needsSslTarget('targetKey'),
];

/** A target client key belongs to a target client certificate. */
export const TARGET_KEY_RULES: readonly Rule[] = [
  {
    flag: 'targetKey',
    broken: (a) => a.targetKey !== undefined && a.targetCert === undefined,
    message: `${f('targetKey')} goes with ${f('targetCert')} (the client certificate it belongs to)`,
  },
];

export const HTTP_UPSTREAM_RULES: readonly Rule[] = [
  {
    flag: 'upstreamUnderscoreHeaders',
    broken: (a) => a.httpUpstream === undefined && a.upstreamUnderscoreHeaders === true,
    message: `${f('upstreamUnderscoreHeaders')} goes with ${f('httpUpstream')} URL; add ${f('httpUpstream')} or drop it`,
  },
];

export const AUTH_RULES: readonly Rule[] = [
  needs('authSource', 'authPlugin', 'BasicHTTPAuth'),
  needs('webAuth', 'authPlugin', 'BasicHTTPAuth'),
];

export const ADMIN_RULES: readonly Rule[] = [needs('adminTokenFile', 'adminListen', '127.0.0.1:9090')];

export const WEB_CSP_RULES: readonly Rule[] = [
  {
    flag: 'webCsp',
    broken: (a) => a.webCsp !== undefined && a.web === undefined,
    message: `${f('webCsp')} sets the policy of ${f('web')} files; give ${f('web')} DIR too (built-in pages keep their own)`,
  },
];

/** Real client addresses: believed only from the trusted proxies (after their ranges parsed). */
export const CLIENT_ADDRESS_RULES: readonly Rule[] = [
  {
    flag: 'proxyProtocolIn',
    broken: (a) => a.proxyProtocolIn === true && splitList(a.trustedProxy).length === 0 && a.unixListen === undefined,
    message: `${f('proxyProtocolIn')} needs ${f('trustedProxy')} CIDR (the balancer's addresses), e.g. ${f('trustedProxy')} 10.0.0.0/8`,
  },
  {
    flag: 'trustForwarded',
    broken: (a) => a.trustForwarded === true && splitList(a.trustedProxy).length === 0,
    message: `${f('trustForwarded')} needs ${f('trustedProxy')} CIDR (the reverse proxies whose headers are believed)`,
  },
];

export const PROCESS_RULES: readonly Rule[] = [
  {
    flag: 'daemon',
    broken: (a) => a.daemon === true && a.inetd,
    message: `-D and ${f('inetd')} exclude each other: under inetd the listening socket is standard input; drop -D`,
  },
];

export const SYSLOG_RULES: readonly Rule[] = [needs('legacySyslog', 'syslog', '/dev/log')];

/**
 * What several worker processes cannot share, in the order it is reported: each is about one process. The admin
 * address too: each worker would bind it and the cluster would hand scrapes to any one of them.
 */
export const WORKER_CLASHES: readonly { readonly label: string; readonly clashes: (a: CliArgs) => boolean }[] = [
  { label: f('inetd'), clashes: (a) => a.inetd },
  { label: f('unixListen'), clashes: (a) => a.unixListen !== undefined },
  { label: f('runOnce'), clashes: (a) => a.runOnce },
  { label: f('timeout'), clashes: (a) => parseSeconds(a.timeout, f('timeout'), true) > 0 },
  { label: f('idleTimeout'), clashes: (a) => parseSeconds(a.idleTimeout, f('idleTimeout'), true) > 0 },
  { label: f('adminListen'), clashes: (a) => a.adminListen !== undefined },
  { label: "'-- COMMAND' (wrap mode)", clashes: (a) => (a.wrapCommand ?? []).length > 0 },
];
