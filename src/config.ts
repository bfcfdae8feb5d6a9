/**
 * The typed configuration every stage reads, and `resolveConfig`, which turns command-line values (`CliArgs`) into it.
 * Validation happens here, once, with one-line messages that name the flag and the fix (`ConfigError`). Nothing here
 * touches the network; file checks are limited to what a flag promises (a `--web` directory exists, a `--cert` that
 * was given on purpose is a file).
 */
import { readFileSync, statSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ipFamily, isLoopbackHost, splitHostPort } from './net/address.js';
import { parseAddressRange, type AddressRange } from './policy/cidr.js';
import { parseRate, type Rate } from './policy/rate-limit.js';
import { isModulePath } from './plugin-loader.js';
import { AUTH_PLUGIN_NAMES, findAuthPlugin } from './auth/registry.js';
import { TOKEN_PLUGIN_NAMES, findTokenPlugin } from './targets/registry.js';
import { ConfigError } from './errors.js';
import type { ClientCertConfig, Target, VerifyClientMode } from './config-types.js';
import { DEFAULTS, type CliArgs } from './config/options.js';
import { createSecureContext } from 'node:tls';

export { DEFAULTS };
export type { CliArgs };

// Where the CLI parsers (and their tests) have always found it.
export { splitHostPort } from './net/address.js';
export type { ClientCertConfig, Target, VerifyClientMode } from './config-types.js';

/**
 * Where the proxy listens. TCP: `host` undefined = every interface, dual-stack; `preferIpv6` picks the IPv6 address
 * when a host name resolves to both (websockify's -6). Unix: a socket file with its mode. Inetd: the listening socket
 * is file descriptor 0.
 */
export type ListenAddress =
  | { kind: 'tcp'; host: string | undefined; port: number; preferIpv6?: boolean }
  | { kind: 'unix'; path: string; mode: number }
  | { kind: 'inetd' };

/** How targets are chosen: one fixed target, a token plugin, or the built-in demo echo service. */
export type TargetSource =
  | { kind: 'fixed'; target: Target }
  | {
      kind: 'token';
      plugin: string;
      source: string;
      from: 'query' | 'host' | 'path';
      jwtAudience?: string;
      jwtIssuer?: string;
      jwtAllowNoExp?: boolean;
      custom?: boolean;
    }
  | { kind: 'demo' };

/** TLS termination settings. */
export interface TlsConfig {
  /** PEM file with the certificate chain (and the key, unless `keyFile` is set). Absolute. */
  readonly certFile: string;
  /** Whether `certFile` was given on the command line (not the `self.pem` default). */
  readonly certGiven: boolean;
  readonly keyFile: string | undefined;
  /** Passphrase of an encrypted key. Never logged. */
  readonly keyPassword: string | undefined;
  /** Refuse plain (non-TLS) clients. */
  readonly sslOnly: boolean;
  /** Make a self-signed certificate in `stateDir` when `certFile` is missing (the `--demo` start). */
  readonly generateIfMissing: boolean;
  /** Where generated state (the demo certificate) lives. */
  readonly stateDir: string;
  /** Client certificates (`--verify-client` and friends); absent = off. */
  readonly clientCert?: ClientCertConfig | undefined;
  /** Protocol versions, suites, groups, chain, HSTS, tickets, reload; absent = the intermediate profile's defaults. */
  readonly options?: TlsOptionsConfig | undefined;
}

/** TLS protocol settings beyond the certificate. */
export interface TlsOptionsConfig {
  readonly profile: 'intermediate' | 'modern';
  /** Lowest protocol version; undefined = the profile's (TLS 1.2, modern: TLS 1.3). */
  readonly minVersion: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' | undefined;
  /** OpenSSL cipher list for TLS 1.2 and below; undefined = the profile's. */
  readonly ciphers: string | undefined;
  /** TLS 1.3 suites (`TLS_AES_128_GCM_SHA256:…`); undefined = OpenSSL's three AEADs. */
  readonly tls13Ciphers: string | undefined;
  /** Key-exchange groups, already filtered to what OpenSSL supports; undefined = the profile's. */
  readonly ecdhCurve: string | undefined;
  /** DH parameters file: enables DHE suites. */
  readonly dhparamFile: string | undefined;
  /** Extra intermediate certificates (PEM) sent after the certificate. */
  readonly chainFile: string | undefined;
  /** `Strict-Transport-Security` max-age on https responses; 0 = no header. */
  readonly hstsSeconds: number;
  readonly sessionTickets: boolean;
  /** How often the session ticket keys are replaced (ms). */
  readonly ticketRotateMs: number;
  /** Reload the certificate, key, chain, CA and CRL files when they change. */
  readonly watchFiles: boolean;
}

/** Resource limits and deadlines. Times in milliseconds, sizes in bytes. */
export interface Limits {
  /** One deadline for first byte + TLS handshake + request headers. */
  readonly handshakeTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly maxMessageBytes: number;
  /** Bytes of unfinished client messages all sessions may hold together (0 = no limit). */
  readonly maxBufferedTotal?: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  /** Buffered bytes in one direction at which the other side is paused. */
  readonly highWaterMark: number;
  /** How long SIGTERM/close() waits for sessions before cutting them. */
  readonly shutdownTimeoutMs: number;
  /** Ping interval (0 = off); a client that has not answered the previous ping by the next one is cut. */
  readonly heartbeatMs: number;
}

/** What to do with a text frame: close 1003 (websockify) or relay its UTF-8 bytes (websockify#365). */
export type TextFramePolicy = 'reject' | 'binary';

/** An auth plugin and where it applies. */
export interface AuthConfig {
  readonly plugin: string;
  /** The plugin's argument (for BasicHTTPAuth a secret: never logged). */
  readonly source: string;
  /** Also require it for ordinary page requests (`--web-auth`). */
  readonly webAuth: boolean;
  /** `plugin` is the absolute path of the operator's own module (`--auth-plugin ./x.js`). */
  readonly custom?: boolean;
}

/** Process lifetime rules (websockify's --run-once, --timeout, --idle-timeout); enforced by main.ts. */
export interface Lifecycle {
  readonly runOnce: boolean;
  /** Stop accepting this long after start, exit once sessions end (0 = never). */
  readonly timeoutMs: number;
  /** Exit after this long without any session (0 = never). */
  readonly idleTimeoutMs: number;
  /** SIGTERM: how long live sessions may go on after accepting stops, before they are closed with 1001. */
  readonly drainTimeoutMs?: number;
}

/** The admin listener (`--admin-listen`): metrics, health and sessions, on an address apart from the public port. */
export interface AdminConfig {
  readonly listen: { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };
  /** Bearer token required on every admin route but `/healthz` and `/readyz` (`--admin-token-file`). Never logged. */
  readonly token: string | undefined;
  /** The file it was read from (never served under `--web`). */
  readonly tokenFile?: string | undefined;
}

/** What wrap mode does when the wrapped program exits (websockify's --wrap-mode). */
export type WrapMode = 'exit' | 'ignore' | 'respawn';

/** A program wsproxy starts and supervises (`-- COMMAND ARGS...`); sessions go to `targets` (its --wrap-target). */
export interface WrapConfig {
  /** Program and arguments, passed to the OS as they are (never through a shell). */
  readonly command: readonly [string, ...string[]];
  readonly mode: WrapMode;
}

/** Where `--syslog` sends log lines: UDP to host:port, or a local unix (datagram) socket such as /dev/log. */
export type SyslogDestination = { kind: 'udp'; host: string; port: number } | { kind: 'unix'; path: string };

/** Syslog output (`--syslog`, `--legacy-syslog`); enforced by main.ts. */
export interface SyslogConfig {
  readonly destination: SyslogDestination;
  /** RFC 3164 (BSD) lines instead of RFC 5424. */
  readonly legacy: boolean;
  /** `daemon` with -D, else `user` (websockify's choice). */
  readonly facility: 'user' | 'daemon';
}

/** Process-level behaviour that only main.ts acts on: wrap mode, daemonising, pid file, syslog. */
export interface ProcessConfig {
  readonly wrap?: WrapConfig | undefined;
  /** `-D`: detach once listening. */
  readonly daemon: boolean;
  /** Absolute `--pid-file` path. */
  readonly pidFile?: string | undefined;
  readonly syslog?: SyslogConfig | undefined;
}

/** Everything `createServer` needs. Tests build it directly. */
export interface Config {
  readonly listen: ListenAddress;
  readonly targets: TargetSource;
  readonly tls: TlsConfig;
  /** Absolute `--web` root, or undefined for the built-in pages. */
  readonly webRoot: string | undefined;
  /** `--web-csp`: Content-Security-Policy for `--web` files; undefined = none (the directory owner's pages). */
  readonly webCsp?: string | undefined;
  /** Origins allowed besides the page's own host; `'*'` allows every origin. */
  readonly allowOrigins: readonly string[];
  readonly limits: Limits;
  readonly log: {
    readonly level: 'debug' | 'info' | 'warn' | 'error';
    readonly format: 'text' | 'json';
    readonly file?: string | undefined;
  };
  /** Auth plugin, if any. */
  readonly auth?: AuthConfig | undefined;
  /** `--record` file prefix (absolute), if recording. */
  readonly recordPrefix?: string | undefined;
  readonly lifecycle?: Lifecycle;
  /** Text frames: close with 1003 (default) or relay as bytes. */
  readonly textFrames?: TextFramePolicy;
  /** `--traffic`: a character per frame on standard output (main.ts supplies the writer). */
  readonly traffic?: boolean;
  /** Processes serving the listening address (`--workers`); 1 = this process alone. */
  readonly workers?: number;
  /** Real client addresses behind a balancer, and PROXY protocol towards the target. Absent = all off. */
  readonly clientAddress?: ClientAddressConfig;
  /** Limits and policy (per-token cap, rate limit, target and Host allowlists, revalidation). Absent = defaults. */
  readonly policy?: PolicyConfig;
  /** `--ssl-target`: TLS to TCP targets; undefined = plain TCP. */
  readonly targetTls?: TargetTlsConfig | undefined;
  /** The admin listener, if `--admin-listen` is given. */
  readonly admin?: AdminConfig | undefined;
  /** `--http-upstream`: normalised http(s) URL that ordinary requests wsproxy does not answer itself go to. */
  readonly httpUpstream?: string | undefined;
  /** `--upstream-underscore-headers`: pass header names with `_` on to the upstream (default: dropped, as nginx). */
  readonly upstreamUnderscoreHeaders?: boolean;
  /** Wrap mode, daemon, pid file and syslog (main.ts only; createServer ignores it). */
  readonly process?: ProcessConfig;
  /**
   * The secret that keys `token_hash` (targets/token-hash.ts): `--token-hash-key-file` (`given`), else a file made in
   * the state dir on first use. Absent (configs built in code): a random key per process.
   */
  readonly tokenHashKey?: { readonly file: string; readonly given: boolean };
}

/** Where the real client address comes from, and whether the target is told it. */
export interface ClientAddressConfig {
  /** Every connection starts with a PROXY protocol v1/v2 header (from a peer in `trustedProxies`). */
  readonly proxyProtocolIn: boolean;
  /** Peers allowed to send PROXY headers and `Forwarded`/`X-Forwarded-For`. */
  readonly trustedProxies: readonly AddressRange[];
  /** Read `Forwarded` / `X-Forwarded-For` from trusted peers (rightmost-untrusted rule). */
  readonly trustForwarded: boolean;
  /** Send a PROXY header with the real client address to the target before any relayed byte. */
  readonly proxyProtocolOut: 'v1' | 'v2' | undefined;
}

/** Limits and policy (README "Operations"). */
export interface PolicyConfig {
  /** Live sessions per token at most (0 = no cap). Counted in this process. */
  readonly maxSessionsPerToken: number;
  /** WebSocket handshakes per client address (token bucket), or undefined for no limit. */
  readonly rateLimit: Rate | undefined;
  /**
   * Unknown tokens and failed auth per client address (token bucket; brute-force guard), or undefined for no limit.
   * Optional so configs built in code keep compiling; the CLI's default is 10/min.
   */
  readonly authFailureLimit?: Rate | undefined;
  /** Allowed target ranges (after DNS); empty = everything but link-local/metadata. */
  readonly allowTargets: readonly AddressRange[];
  /** Allowed `Host` names (lowercase, no port); empty = the automatic list; `['any']` = no check. */
  readonly allowedHosts: readonly string[];
  /** Re-resolve every live session's token this often, closing revoked ones with 1008 (0 = off). */
  readonly revalidateIntervalMs: number;
}

/** TLS to the target (`--ssl-target` and its `--target-*` options). Files are absolute; server.ts reads them at start. */
export interface TargetTlsConfig {
  /** `required` (default): certificate and host name verified; `none`: the operator's explicit choice, warned about. */
  readonly verify: 'required' | 'none';
  /** CAs to trust instead of the system store (`--target-ca`). */
  readonly caFile?: string | undefined;
  /** SNI and the name the certificate must carry (`--target-servername`; default the target host). */
  readonly servername?: string | undefined;
  /** Client certificate (and key, unless `keyFile`) for targets that want one. */
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
}

/**
 * `--workers`: a count from 1 to 64, or `auto` for one per core (Node's `availableParallelism`, which honours CPU
 * affinity and cgroup limits).
 */
export function resolveWorkers(value: string | undefined, cores: number): number {
  if (value === undefined || value === '') return 1;
  if (value === 'auto') return Math.max(1, cores);
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 64) {
    throw new ConfigError('--workers', `--workers: '${value}' is not a number of processes from 1 to 64 or 'auto'`);
  }
  return Number(value);
}

function resolveTargetTls(args: CliArgs, cwd: string, targets: TargetSource): TargetTlsConfig | undefined {
  const extras = [
    ['--target-ca', args.targetCa],
    ['--target-servername', args.targetServername],
    ['--target-verify', args.targetVerify],
    ['--target-cert', args.targetCert],
    ['--target-key', args.targetKey],
  ] as const;
  if (!args.sslTarget) {
    const given = extras.find(([, v]) => v !== undefined);
    if (given)
      throw new ConfigError(given[0], `${given[0]} goes with --ssl-target (TLS to the target); add --ssl-target`);
    return undefined;
  }
  if (targets.kind === 'fixed' && targets.target.kind === 'unix') {
    throw new ConfigError(
      '--ssl-target',
      '--ssl-target needs a host:port target; a unix socket target is relayed as is',
    );
  }
  if (targets.kind === 'demo')
    throw new ConfigError('--ssl-target', '--ssl-target does not go with --demo (its echo target speaks plain TCP)');
  const verify = args.targetVerify ?? 'required';
  if (verify !== 'required' && verify !== 'none') {
    throw new ConfigError('--target-verify', `--target-verify: '${verify}' is not one of required, none`);
  }
  const file = (flag: string, value: string | undefined, what: string): string | undefined => {
    if (value === undefined) return undefined;
    const path = resolve(cwd, value);
    if (!isFile(path)) throw new ConfigError(flag, `${flag}: '${path}' is not a readable file; give ${what}`);
    return path;
  };
  if (args.targetKey !== undefined && args.targetCert === undefined) {
    throw new ConfigError(
      '--target-key',
      '--target-key goes with --target-cert (the client certificate it belongs to)',
    );
  }
  if (args.targetServername !== undefined && !/^[A-Za-z0-9.-]{1,253}$/.test(args.targetServername)) {
    throw new ConfigError('--target-servername', `--target-servername: '${args.targetServername}' is not a host name`);
  }
  return {
    verify,
    caFile: file('--target-ca', args.targetCa, 'the PEM CA certificate(s) that signed the target certificate'),
    servername: args.targetServername,
    certFile: file('--target-cert', args.targetCert, 'a PEM client certificate (with its key, or add --target-key)'),
    keyFile: file('--target-key', args.targetKey, 'the PEM key of --target-cert'),
  };
}

function resolveAuth(args: CliArgs, cwd: string): AuthConfig | undefined {
  if (args.authPlugin === undefined) {
    if (args.authSource !== undefined)
      throw new ConfigError('--auth-source', '--auth-source needs --auth-plugin (e.g. --auth-plugin BasicHTTPAuth)');
    if (args.webAuth)
      throw new ConfigError('--web-auth', '--web-auth needs --auth-plugin (e.g. --auth-plugin BasicHTTPAuth)');
    return undefined;
  }
  if (isModulePath(args.authPlugin)) {
    const file = resolve(cwd, args.authPlugin);
    if (!isFile(file))
      throw new ConfigError(
        '--auth-plugin',
        `--auth-plugin: '${file}' is not a file; give the path of an ES module whose default export checks requests (see README)`,
      );
    return { plugin: file, source: args.authSource ?? '', webAuth: args.webAuth, custom: true };
  }
  const plugin = findAuthPlugin(args.authPlugin);
  if (plugin === undefined) {
    throw new ConfigError(
      '--auth-plugin',
      `--auth-plugin: '${args.authPlugin}' is not available; choose one of ${AUTH_PLUGIN_NAMES.join(', ')}`,
    );
  }
  const source = plugin.parseSource(args.authSource ?? '', { clientCerts: (args.verifyClient ?? 'off') !== 'off' });
  return { plugin: plugin.name, source, webAuth: args.webAuth };
}

// List options take one argument (so they cannot swallow the positionals after them); several entries go in it
// separated by spaces (or commas, where an entry cannot contain one).
function splitList(values: readonly string[] | undefined, separator: RegExp = /[\s,]+/): string[] {
  return (values ?? []).flatMap((v) => v.split(separator)).filter((v) => v.length > 0);
}

function resolveClientAddress(args: CliArgs, listenIsUnix: boolean): ClientAddressConfig {
  const trustedProxies = splitList(args.trustedProxy).map((t) => {
    const r = parseAddressRange(t, false);
    if (typeof r === 'string') throw new ConfigError('--trusted-proxy', `--trusted-proxy: ${r}`);
    return r;
  });
  const proxyProtocolIn = args.proxyProtocolIn ?? false;
  const trustForwarded = args.trustForwarded ?? false;
  if (proxyProtocolIn && trustedProxies.length === 0 && !listenIsUnix) {
    throw new ConfigError(
      '--proxy-protocol-in',
      "--proxy-protocol-in needs --trusted-proxy CIDR (the balancer's addresses), e.g. --trusted-proxy 10.0.0.0/8",
    );
  }
  if (trustForwarded && trustedProxies.length === 0) {
    throw new ConfigError(
      '--trust-forwarded',
      '--trust-forwarded needs --trusted-proxy CIDR (the reverse proxies whose headers are believed)',
    );
  }
  const out = args.proxyProtocolOut;
  if (out !== undefined && out !== 'v1' && out !== 'v2') {
    throw new ConfigError('--proxy-protocol-out', `--proxy-protocol-out: '${out}' is not one of v1, v2`);
  }
  return { proxyProtocolIn, trustedProxies, trustForwarded, proxyProtocolOut: out };
}

/** `--token-hash-key-file FILE` (must be a file), else `<state dir>/token-hash.key`, made when first needed. */
function resolveTokenHashKey(args: CliArgs, cwd: string, stateDir: string): { file: string; given: boolean } {
  if (args.tokenHashKeyFile === undefined) return { file: join(stateDir, 'token-hash.key'), given: false };
  const file = resolve(cwd, args.tokenHashKeyFile);
  if (!isFile(file))
    throw new ConfigError(
      '--token-hash-key-file',
      `--token-hash-key-file: '${file}' is not a file; put a random secret in it (e.g. openssl rand -hex 32 > FILE)`,
    );
  return { file, given: true };
}

/** A rate option: `10/s`, `600/min`; empty or 0 (any unit) = no limit. */
function parseRateOption(text: string | undefined, flag: string): Rate | undefined {
  if (text === undefined || text.trim() === '' || /^\s*0+(\.0*)?\s*(\/.*)?$/.test(text)) return undefined;
  const rate = parseRate(text);
  if (!rate) throw new ConfigError(flag, `${flag}: '${text}' is not a rate; write e.g. 10/s or 600/min (0 = no limit)`);
  return rate;
}

function resolvePolicy(args: CliArgs): PolicyConfig {
  const capText = args.maxSessionsPerToken ?? '0';
  if (!/^\s*\d+\s*$/.test(capText))
    throw new ConfigError(
      '--max-sessions-per-token',
      `--max-sessions-per-token: '${capText}' is not a whole number (0 = no cap)`,
    );
  const rateLimit = parseRateOption(args.rateLimit, '--rate-limit');
  const authFailureLimit = parseRateOption(args.authFailureLimit ?? DEFAULTS.authFailureLimit, '--auth-failure-limit');
  const allowTargets = splitList(args.allowTarget, /\s+/).map((t) => {
    const r = parseAddressRange(t, true);
    if (typeof r === 'string') throw new ConfigError('--allow-target', `--allow-target: ${r}`);
    return r;
  });
  const allowedHosts = splitList(args.allowedHost).map((h) => {
    const name = h
      .toLowerCase()
      .replace(/^\[(.*)\]$/, '$1')
      .replace(/\.$/, '');
    if (!/^[a-z0-9.:_-]+$/.test(name))
      throw new ConfigError(
        '--allowed-host',
        `--allowed-host: '${h}' is not a host name or address (no port, no scheme)`,
      );
    return name;
  });
  if (allowedHosts.includes('any') && allowedHosts.length > 1) {
    throw new ConfigError(
      '--allowed-host',
      "--allowed-host: 'any' turns the Host check off and cannot be combined with names; give either 'any' or the names",
    );
  }
  return {
    maxSessionsPerToken: Number(capText),
    rateLimit,
    authFailureLimit,
    allowTargets,
    allowedHosts,
    revalidateIntervalMs: parseSeconds(args.revalidateInterval ?? '0', '--revalidate-interval', true),
  };
}

/**
 * Parses `--admin-listen`: `unix:/path`, `host:port`, `[v6]:port`, or a port alone (then loopback only: the admin
 * routes show sessions and may close them, so they are never exposed on every interface by default).
 */
export function parseAdminListen(text: string, cwd: string): AdminConfig['listen'] {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (path === '')
      throw new ConfigError(
        '--admin-listen',
        "--admin-listen: give a socket path after 'unix:', e.g. unix:/run/wsproxy/admin.sock",
      );
    return { kind: 'unix', path: resolve(cwd, path) };
  }
  const { host, port } = splitHostPort(text);
  if (host !== undefined && (host === '' || (host.includes(':') && ipFamily(host) !== 6))) {
    throw new ConfigError(
      '--admin-listen',
      `--admin-listen: '${text}' is not host:port, [v6]:port, a port or unix:/path`,
    );
  }
  return { kind: 'tcp', host: host ?? '127.0.0.1', port: parsePort(port, '--admin-listen', true) };
}

function resolveAdmin(args: CliArgs, cwd: string): AdminConfig | undefined {
  if (args.adminListen === undefined) {
    if (args.adminTokenFile !== undefined)
      throw new ConfigError(
        '--admin-token-file',
        '--admin-token-file needs --admin-listen (e.g. --admin-listen 127.0.0.1:9090)',
      );
    return undefined;
  }
  const listen = parseAdminListen(args.adminListen, cwd);
  let token: string | undefined;
  if (args.adminTokenFile !== undefined) {
    const file = resolve(cwd, args.adminTokenFile);
    try {
      token = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(
        '--admin-token-file',
        `--admin-token-file: cannot read '${file}' (${(err as NodeJS.ErrnoException).code ?? 'error'}); give a file holding the bearer token`,
      );
    }
    if (token === '' || /\s/.test(token)) {
      throw new ConfigError(
        '--admin-token-file',
        `--admin-token-file: '${file}' must hold one token (no spaces), e.g. from: openssl rand -hex 32`,
      );
    }
  }
  if (listen.kind === 'tcp' && token === undefined && !isLoopbackHost(listen.host)) {
    // Sessions, metrics and /reload would be open to the network; the probes stay open with a token (README).
    throw new ConfigError(
      '--admin-token-file',
      `--admin-listen ${listen.host}:${listen.port} is reachable from other machines: add --admin-token-file FILE (make one with: openssl rand -hex 32 > FILE), or listen on 127.0.0.1 or unix:/path`,
    );
  }
  return {
    listen,
    token,
    ...(args.adminTokenFile === undefined ? {} : { tokenFile: resolve(cwd, args.adminTokenFile) }),
  };
}

/** `--web-csp`: one header value (no control characters, so no header injection); it needs `--web`. */
function parseWebCsp(text: string, webRoot: string | undefined): string {
  if (webRoot === undefined)
    throw new ConfigError(
      '--web-csp',
      '--web-csp sets the policy of --web files; give --web DIR too (built-in pages keep their own)',
    );
  const value = text.trim();
  // eslint-disable-next-line no-control-regex
  if (value === '' || /[\x00-\x1f\x7f]/.test(value))
    throw new ConfigError(
      '--web-csp',
      '--web-csp: give one Content-Security-Policy value on one line, e.g. "default-src \'self\'"',
    );
  return value;
}

/** `--http-upstream` and the option that goes with it. */
function resolveHttpUpstream(args: CliArgs): Pick<Config, 'httpUpstream' | 'upstreamUnderscoreHeaders'> {
  if (args.httpUpstream === undefined) {
    if (args.upstreamUnderscoreHeaders === true)
      throw new ConfigError(
        '--upstream-underscore-headers',
        '--upstream-underscore-headers goes with --http-upstream URL; add --http-upstream or drop it',
      );
    return {};
  }
  return {
    httpUpstream: parseHttpUpstream(args.httpUpstream),
    ...(args.upstreamUnderscoreHeaders === true ? { upstreamUnderscoreHeaders: true } : {}),
  };
}

/** Validates `--http-upstream`: an http(s) URL, optional path prefix, no credentials, query or fragment. */
export function parseHttpUpstream(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    // The value is not echoed: a mistyped URL may still carry a password.
    const got = url ? `the scheme '${url.protocol}'` : 'a value that is not a URL';
    throw new ConfigError(
      '--http-upstream',
      `--http-upstream: got ${got}; give an http:// or https:// URL such as http://127.0.0.1:8080`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError(
      '--http-upstream',
      '--http-upstream: the URL must not carry a user or password (they would be sent for every client); let the application authenticate',
    );
  }
  if (url.search !== '' || url.hash !== '') {
    throw new ConfigError(
      '--http-upstream',
      `--http-upstream: '${url.origin}${url.pathname}' must not have a query or #fragment; give scheme://host[:port][/prefix]`,
    );
  }
  return url.href;
}

/** `--token-plugin ./file.js`: the operator's own resolver module (loaded at start by targets/custom.ts). */
function resolveCustomTokenPlugin(
  args: CliArgs,
  tokenPlugin: string,
  target: string | undefined,
  cwd: string,
): TargetSource {
  const file = resolve(cwd, tokenPlugin);
  if (!isFile(file)) {
    throw new ConfigError(
      '--token-plugin',
      `--token-plugin: '${file}' is not a file; give the path of an ES module whose default export resolves tokens (see README)`,
    );
  }
  if (target !== undefined)
    throw new ConfigError(
      'target',
      `a target ('${target}') and --token-plugin exclude each other: the token chooses the target`,
    );
  if (args.hostToken && args.tokenFromPath) {
    throw new ConfigError(
      '--host-token',
      '--host-token and --token-from-path exclude each other; pick where the token comes from',
    );
  }
  if (args.tokenJwtAudience !== undefined || args.tokenJwtIssuer !== undefined || args.tokenJwtAllowNoExp === true) {
    throw new ConfigError(
      '--token-jwt-audience',
      '--token-jwt-audience, --token-jwt-issuer and --token-jwt-allow-no-exp go with --token-plugin JWTTokenApi',
    );
  }
  return {
    kind: 'token',
    plugin: file,
    custom: true,
    source: args.tokenSource ?? '',
    from: args.hostToken ? 'host' : args.tokenFromPath ? 'path' : 'query',
  };
}

function parsePort(text: string, flag: string, allowZero: boolean): number {
  if (!/^\d{1,5}$/.test(text)) throw new ConfigError(flag, `${flag}: '${text}' is not a port number (1-65535)`);
  const port = Number(text);
  if (port > 65535 || (port === 0 && !allowZero)) {
    throw new ConfigError(flag, `${flag}: port ${port} is out of range (1-65535)`);
  }
  return port;
}

/** Parses the `[source_addr:]source_port` positional. Port 0 picks a free port (tests, scripts). */
export function parseListenAddress(text: string): ListenAddress {
  const { host, port } = splitHostPort(text);
  if (host !== undefined && host.length === 0) {
    throw new ConfigError(
      'source_port',
      `listen address '${text}' has an empty host; give a port alone to listen everywhere`,
    );
  }
  if (host !== undefined && host.includes(':') && ipFamily(host) !== 6) {
    throw new ConfigError('source_port', `listen address '${text}': '${host}' is not an IPv6 address`);
  }
  return { kind: 'tcp', host, port: parsePort(port, 'source_port', true) };
}

/** Parses the `target_addr:target_port` positional, or `unix:/path` for a unix socket. */
export function parseTargetAddress(text: string): Target {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (!path.startsWith('/'))
      throw new ConfigError('target', `target '${text}': give an absolute socket path, e.g. unix:/run/vnc.sock`);
    return { kind: 'unix', path };
  }
  const { host, port } = splitHostPort(text);
  if (host === undefined || host.length === 0) {
    throw new ConfigError('target', `target '${text}' needs a host and a port, e.g. localhost:5900`);
  }
  if (host.includes(':') && ipFamily(host) !== 6) {
    throw new ConfigError('target', `target '${text}': '${host}' is not an IPv6 address (write [2001:db8::1]:5900)`);
  }
  return { kind: 'tcp', host, port: parsePort(port, 'target', false) };
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** Parses a byte size: `65536`, `64KiB`, `16m`, `1G` (binary units). */
export function parseSize(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? SIZE_UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || unit === undefined)
    throw new ConfigError(flag, `${flag}: '${text}' is not a size; write e.g. 65536, 64KiB or 16MiB`);
  const bytes = Math.floor(Number(m[1]) * unit);
  if (bytes < 1) throw new ConfigError(flag, `${flag}: the size must be at least 1 byte`);
  if (!Number.isSafeInteger(bytes)) throw new ConfigError(flag, `${flag}: '${text}' is too large`);
  return bytes;
}

// Node timers hold at most 2^31-1 ms (about 24.8 days); a longer delay fires after 1 ms instead.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Parses seconds (fractions allowed, at least 1 ms, at most ~24 days) into milliseconds; `0` only where `allowZero`. */
export function parseSeconds(text: string, flag: string, allowZero = false): number {
  const n = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n) || (n === 0 && !allowZero)) {
    throw new ConfigError(flag, `${flag}: '${text}' is not a ${allowZero ? '' : 'positive '}number of seconds`);
  }
  const ms = Math.round(n * 1000);
  if (n > 0 && ms < 1)
    throw new ConfigError(flag, `${flag}: '${text}' is shorter than a millisecond; give at least 0.001 seconds`);
  if (ms > MAX_TIMER_MS)
    throw new ConfigError(
      flag,
      `${flag}: '${text}' is too long; give at most ${Math.floor(MAX_TIMER_MS / 1000)} seconds`,
    );
  return ms;
}

/**
 * The few limits where 0 cannot mean "no limit" (every other cap and timeout takes 0 that way): says why, in the one
 * line a CLI error gets.
 */
function notZero(text: string, flag: string, why: string): string {
  if (/^\s*0*(\.0*)?\s*[a-z]*\s*$/i.test(text) && /\d/.test(text)) {
    throw new ConfigError(flag, `${flag}: 0 is not allowed here (${why}); give a positive value`);
  }
  return text;
}

/** Parses a cap: a whole number, `0` meaning no limit (Infinity), as users of other servers expect. */
export function parseCount(text: string, flag: string): number {
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new ConfigError(flag, `${flag}: '${text}' is not a whole number (0 = no limit)`);
  }
  const n = Number(text);
  return n === 0 ? Infinity : n;
}

/** Normalises an `--allow-origin` entry to `scheme://host[:port]` (default ports dropped), or `*`/`null`. */
export function normaliseOrigin(text: string): string {
  const t = text.trim();
  if (t === '*' || t === 'null') return t;
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    throw new ConfigError(
      '--allow-origin',
      `--allow-origin: '${text}' is not an origin; write e.g. https://example.com:8443`,
    );
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    throw new ConfigError(
      '--allow-origin',
      `--allow-origin: '${text}' has a path or query; give only scheme://host[:port]`,
    );
  }
  return url.origin.toLowerCase();
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Default state directory: `$XDG_STATE_HOME/wsproxy`, else `~/.local/state/wsproxy`. */
export function defaultStateDir(env: Readonly<Record<string, string | undefined>>): string {
  // The XDG spec says a relative XDG_STATE_HOME is invalid and must be ignored.
  const xdg = env['XDG_STATE_HOME'];
  const base = xdg && isAbsolute(xdg) ? xdg : join(env['HOME'] || homedir(), '.local', 'state');
  return join(base, 'wsproxy');
}

/**
 * Validates and normalises command-line values. `cwd` resolves relative paths; `env` supplies the state directory
 * default. Throws `ConfigError` with a one-line message.
 */
export function resolveConfig(
  args: CliArgs,
  cwd: string,
  env: Readonly<Record<string, string | undefined>> = {},
  stderrIsTty = false,
): Config {
  // With --unix-listen or --inetd there is no source positional (websockify's rule): the first one is the target.
  const noSource = args.unixListen !== undefined || args.inetd;
  if (args.unixListen !== undefined && args.inetd)
    throw new ConfigError('--inetd', '--inetd and --unix-listen exclude each other');
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
  let listen: ListenAddress;
  if (args.unixListen !== undefined) {
    if (!/^[0-7]{3,4}$/.test(args.unixListenMode)) {
      throw new ConfigError(
        '--unix-listen-mode',
        `--unix-listen-mode: '${args.unixListenMode}' is not an octal mode such as 600 or 660`,
      );
    }
    listen = { kind: 'unix', path: resolve(cwd, args.unixListen), mode: parseInt(args.unixListenMode, 8) };
  } else if (args.inetd) {
    listen = { kind: 'inetd' };
  } else {
    listen = { ...parseListenAddress(source ?? ''), ...(args.preferIpv6 ? { preferIpv6: true } : {}) };
  }
  if (args.unixTarget !== undefined && positionalTarget !== undefined) {
    throw new ConfigError(
      '--unix-target',
      `--unix-target and a target ('${positionalTarget}') exclude each other; give one`,
    );
  }
  const wrap = resolveWrap(args, positionalTarget);
  const target =
    wrap !== undefined
      ? args.wrapTarget
      : args.unixTarget !== undefined
        ? `unix:${resolve(cwd, args.unixTarget)}`
        : positionalTarget;
  let targets: TargetSource;
  const tokenPlugin = args.tokenPlugin ?? (args.targetConfig !== undefined ? 'TokenFile' : undefined);
  const tokenSource = args.tokenSource ?? args.targetConfig;
  if (args.targetConfig !== undefined && (args.tokenPlugin !== undefined || args.tokenSource !== undefined)) {
    throw new ConfigError(
      '--target-config',
      '--target-config is the old spelling of --token-plugin TokenFile --token-source FILE; give one or the other',
    );
  }
  if (tokenPlugin === undefined) {
    if (args.tokenSource !== undefined)
      throw new ConfigError('--token-source', '--token-source needs --token-plugin (e.g. --token-plugin TokenFile)');
    if (args.hostToken)
      throw new ConfigError('--host-token', '--host-token needs --token-plugin (e.g. --token-plugin TokenFile)');
    if (args.tokenFromPath)
      throw new ConfigError(
        '--token-from-path',
        '--token-from-path needs --token-plugin (e.g. --token-plugin TokenFile)',
      );
  }
  if (wrap !== undefined && (args.demo || tokenPlugin !== undefined)) {
    throw new ConfigError(
      '--wrap-target',
      'wrapping a program (-- COMMAND) relays to --wrap-target; drop --demo/--token-plugin',
    );
  }
  if (args.demo) {
    if (target !== undefined)
      throw new ConfigError('--demo', `--demo runs its own echo target; drop '${target}' or drop --demo`);
    if (tokenPlugin !== undefined)
      throw new ConfigError('--demo', '--demo runs its own echo target; drop --token-plugin or drop --demo');
    targets = { kind: 'demo' };
  } else if (tokenPlugin !== undefined && isModulePath(tokenPlugin)) {
    targets = resolveCustomTokenPlugin(args, tokenPlugin, target, cwd);
  } else if (tokenPlugin !== undefined) {
    const plugin = findTokenPlugin(tokenPlugin);
    if (plugin === undefined) {
      throw new ConfigError(
        '--token-plugin',
        `--token-plugin: '${tokenPlugin}' is not available; choose one of ${TOKEN_PLUGIN_NAMES.join(', ')}`,
      );
    }
    if (target !== undefined) {
      throw new ConfigError(
        'target',
        `a target ('${target}') and --token-plugin exclude each other: the token chooses the target`,
      );
    }
    if (tokenSource === undefined || tokenSource === '') {
      throw new ConfigError(
        '--token-source',
        `--token-plugin ${plugin.name} needs --token-source (a file or directory of 'token: host:port' lines)`,
      );
    }
    if (args.hostToken && args.tokenFromPath) {
      throw new ConfigError(
        '--host-token',
        '--host-token and --token-from-path exclude each other; pick where the token comes from',
      );
    }
    const sourcePath = plugin.parseSource(tokenSource, { cwd });
    if (
      (args.tokenJwtAudience !== undefined || args.tokenJwtIssuer !== undefined || args.tokenJwtAllowNoExp === true) &&
      plugin.name !== 'JWTTokenApi'
    ) {
      throw new ConfigError(
        '--token-jwt-audience',
        '--token-jwt-audience, --token-jwt-issuer and --token-jwt-allow-no-exp go with --token-plugin JWTTokenApi',
      );
    }
    targets = {
      kind: 'token',
      plugin: plugin.name,
      source: sourcePath,
      from: args.hostToken ? 'host' : args.tokenFromPath ? 'path' : 'query',
      ...(args.tokenJwtAudience === undefined ? {} : { jwtAudience: args.tokenJwtAudience }),
      ...(args.tokenJwtIssuer === undefined ? {} : { jwtIssuer: args.tokenJwtIssuer }),
      ...(args.tokenJwtAllowNoExp === true ? { jwtAllowNoExp: true } : {}),
    };
  } else {
    if (target === undefined) {
      throw new ConfigError(
        'target',
        'missing the target: give target_addr:target_port (e.g. localhost:5900), --token-plugin, or --demo for a built-in echo target',
      );
    }
    targets = { kind: 'fixed', target: parseTargetAddress(target) };
  }

  const certGiven = args.cert !== undefined;
  const certFile = resolve(cwd, args.cert ?? DEFAULTS.cert);
  const keyFile = args.key === undefined ? undefined : resolve(cwd, args.key);
  if (keyFile !== undefined && !isFile(keyFile)) {
    throw new ConfigError(
      '--key',
      `--key: '${keyFile}' is not a readable file; give the PEM private key that matches --cert`,
    );
  }
  // A certificate given on purpose must exist; without --cert, self.pem is used if present, else one is generated.
  if (certGiven && !isFile(certFile)) {
    throw new ConfigError(
      '--cert',
      `--cert: '${certFile}' not found; give an existing PEM file, make one with scripts/make-self-signed.sh, or drop --cert to use a generated one`,
    );
  }
  const generateIfMissing = !certGiven && !isFile(certFile);
  const tlsExtra = resolveTlsExtras(args, cwd);

  let webRoot: string | undefined;
  if (args.web !== undefined) {
    webRoot = resolve(cwd, args.web);
    let ok: boolean;
    try {
      ok = statSync(webRoot).isDirectory();
    } catch {
      ok = false;
    }
    if (!ok)
      throw new ConfigError(
        '--web',
        `--web: '${webRoot}' is not a directory; give the folder to serve (e.g. /usr/share/novnc)`,
      );
  }

  // auto (the CLI default): people at a terminal read text; collectors (journald, Docker, Kubernetes) get JSON.
  const format = args.logFormat === 'auto' ? (stderrIsTty ? 'text' : 'json') : args.logFormat;
  if (format !== 'text' && format !== 'json') {
    throw new ConfigError('--log-format', `--log-format: '${format}' is not one of auto, text, json`);
  }
  const level = args.logLevel ?? (args.verbose ? 'debug' : 'info');
  if (level !== 'debug' && level !== 'info' && level !== 'warn' && level !== 'error') {
    throw new ConfigError('--log-level', `--log-level: '${level}' is not one of debug, info, warn, error`);
  }

  let recordPrefix: string | undefined;
  if (args.record !== undefined) {
    recordPrefix = resolve(cwd, args.record);
    let dirOk: boolean;
    try {
      dirOk = statSync(dirname(recordPrefix)).isDirectory();
    } catch {
      dirOk = false;
    }
    if (!dirOk)
      throw new ConfigError(
        '--record',
        `--record: the folder of '${recordPrefix}' does not exist; sessions are written to ${recordPrefix}.<n>`,
      );
  }

  if (args.daemon && args.inetd) {
    throw new ConfigError(
      '--daemon',
      '-D and --inetd exclude each other: under inetd the listening socket is standard input; drop -D',
    );
  }
  if (args.textFrames !== 'reject' && args.textFrames !== 'binary') {
    throw new ConfigError('--text-frames', `--text-frames: '${args.textFrames}' is not one of reject, binary`);
  }

  const workers = resolveWorkers(args.workers, availableParallelism());
  if (workers > 1) {
    const clash = args.inetd
      ? '--inetd'
      : args.unixListen !== undefined
        ? '--unix-listen'
        : args.runOnce
          ? '--run-once'
          : parseSeconds(args.timeout, '--timeout', true) > 0
            ? '--timeout'
            : parseSeconds(args.idleTimeout, '--idle-timeout', true) > 0
              ? '--idle-timeout'
              : // Each worker would bind the admin address too and the cluster would hand scrapes to any one of them.
                args.adminListen !== undefined
                ? '--admin-listen'
                : (args.wrapCommand ?? []).length > 0
                  ? "'-- COMMAND' (wrap mode)"
                  : undefined;
    if (clash !== undefined) {
      throw new ConfigError(
        '--workers',
        `--workers ${workers} and ${clash} exclude each other (${clash} is about one process); drop one of them`,
      );
    }
  }

  return {
    listen,
    targets,
    workers,
    textFrames: args.textFrames,
    traffic: args.traffic,
    targetTls: resolveTargetTls(args, cwd, targets),
    ...resolveHttpUpstream(args),
    auth: resolveAuth(args, cwd),
    recordPrefix,
    lifecycle: {
      runOnce: args.runOnce,
      timeoutMs: parseSeconds(args.timeout, '--timeout', true),
      idleTimeoutMs: parseSeconds(args.idleTimeout, '--idle-timeout', true),
      drainTimeoutMs: parseSeconds(args.drainTimeout ?? String(DEFAULTS.drainTimeoutSeconds), '--drain-timeout', true),
    },
    admin: resolveAdmin(args, cwd),
    tls: {
      certFile,
      certGiven,
      keyFile,
      keyPassword: args.keyPassword,
      sslOnly: args.sslOnly,
      generateIfMissing,
      stateDir: resolve(cwd, args.stateDir ?? defaultStateDir(env)),
      ...tlsExtra,
    },
    webRoot,
    ...(args.webCsp === undefined ? {} : { webCsp: parseWebCsp(args.webCsp, webRoot) }),
    allowOrigins: args.allowOrigin
      .flatMap((o) => o.split(/[\s,]+/))
      .filter((o) => o.length > 0)
      .map(normaliseOrigin),
    limits: {
      handshakeTimeoutMs: parseSeconds(
        notZero(
          args.handshakeTimeout,
          '--handshake-timeout',
          'without a deadline an idle client holds its connection slot forever',
        ),
        '--handshake-timeout',
      ),
      connectTimeoutMs: parseSeconds(
        notZero(
          args.connectTimeout,
          '--connect-timeout',
          'without a deadline a silent target holds the handshake forever',
        ),
        '--connect-timeout',
      ),
      maxMessageBytes: parseSize(
        notZero(args.maxMessageSize, '--max-message-size', 'one unbounded message could take all memory'),
        '--max-message-size',
      ),
      maxBufferedTotal: resolveMaxBufferedTotal(args),
      maxConnections: parseCount(args.maxConnections, '--max-connections'),
      maxConnectionsPerIp: parseCount(args.maxConnectionsPerIp, '--max-connections-per-ip'),
      highWaterMark: parseSize(args.highWaterMark, '--high-water-mark'),
      shutdownTimeoutMs: parseSeconds(args.shutdownTimeout, '--shutdown-timeout', true),
      heartbeatMs: parseSeconds(args.heartbeat, '--heartbeat', true),
    },
    log: { level, format, ...(args.logFile === undefined ? {} : { file: resolve(cwd, args.logFile) }) },
    clientAddress: resolveClientAddress(args, listen.kind === 'unix'),
    policy: resolvePolicy(args),
    tokenHashKey: resolveTokenHashKey(args, cwd, resolve(cwd, args.stateDir ?? defaultStateDir(env))),
    process: {
      wrap,
      daemon: args.daemon ?? false,
      pidFile: args.pidFile === undefined ? undefined : resolve(cwd, args.pidFile),
      syslog: resolveSyslog(args, cwd),
    },
  };
}

/** The `--max-buffered-total` a configuration without one gets (see below). */
export function defaultMaxBufferedTotal(maxMessageBytes: number): number {
  return Math.max(parseSize(DEFAULTS.maxBufferedTotal, '--max-buffered-total'), maxMessageBytes);
}

/**
 * `--max-buffered-total`: 64 MiB by default (four largest messages in flight at the default --max-message-size; noVNC
 * sends messages of a few bytes), raised to --max-message-size when that is larger. Given, it must hold one largest
 * message, or no such message could ever arrive. 0 = no limit.
 */
function resolveMaxBufferedTotal(args: CliArgs): number {
  const maxMessage = parseSize(args.maxMessageSize, '--max-message-size');
  if (args.maxBufferedTotal === undefined) return defaultMaxBufferedTotal(maxMessage);
  if (/^\s*0+\s*$/.test(args.maxBufferedTotal)) return 0;
  const total = parseSize(args.maxBufferedTotal, '--max-buffered-total');
  if (total < maxMessage) {
    throw new ConfigError(
      '--max-buffered-total',
      `--max-buffered-total (${args.maxBufferedTotal}) is below --max-message-size (${args.maxMessageSize}): no message of the largest size could arrive; raise it, lower --max-message-size, or use 0 for no limit`,
    );
  }
  return total;
}

/** Wrap mode: a command after `--` needs --wrap-target (no LD_PRELOAD port rebinding as in websockify). */
function resolveWrap(args: CliArgs, positionalTarget: string | undefined): WrapConfig | undefined {
  const mode = args.wrapMode ?? 'exit';
  if (mode !== 'exit' && mode !== 'ignore' && mode !== 'respawn') {
    throw new ConfigError('--wrap-mode', `--wrap-mode: '${mode}' is not one of exit, ignore, respawn`);
  }
  const [program, ...rest] = args.wrapCommand ?? [];
  if (program === undefined || program === '') {
    if (args.wrapTarget !== undefined)
      throw new ConfigError(
        '--wrap-target',
        '--wrap-target goes with a program to wrap: wsproxy [options] PORT -- COMMAND [ARGS...]',
      );
    return undefined;
  }
  if (args.wrapTarget === undefined) {
    throw new ConfigError(
      '--wrap-target',
      `wrapping '${program}' needs --wrap-target host:port (where it listens), e.g. --wrap-target 127.0.0.1:5901`,
    );
  }
  if (positionalTarget !== undefined || args.unixTarget !== undefined) {
    throw new ConfigError(
      '--wrap-target',
      `a target ('${positionalTarget ?? args.unixTarget ?? ''}') and a wrapped program exclude each other; the program's address is --wrap-target`,
    );
  }
  try {
    parseTargetAddress(args.wrapTarget);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError('--wrap-target', `--wrap-target: ${err.message}`);
    throw err;
  }
  return { command: [program, ...rest], mode };
}

/** `--syslog host:port` (UDP, websockify's rule: a colon means host:port) or a unix socket path. */
function resolveSyslog(args: CliArgs, cwd: string): SyslogConfig | undefined {
  if (args.syslog === undefined) {
    if (args.legacySyslog)
      throw new ConfigError('--legacy-syslog', '--legacy-syslog needs --syslog (e.g. --syslog /dev/log)');
    return undefined;
  }
  let destination: SyslogDestination;
  if (args.syslog.includes(':')) {
    const { host, port } = splitHostPort(args.syslog);
    if (host === undefined || host === '')
      throw new ConfigError('--syslog', `--syslog: '${args.syslog}' needs a host, e.g. 127.0.0.1:514 or /dev/log`);
    destination = { kind: 'udp', host, port: parsePort(port, '--syslog', false) };
  } else {
    destination = { kind: 'unix', path: resolve(cwd, args.syslog) };
  }
  return { destination, legacy: args.legacySyslog ?? false, facility: args.daemon ? 'daemon' : 'user' };
}

// ---- TLS: client certificates and protocol settings (issue 5) ----

const SSL_VERSIONS: Record<string, 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' | undefined> = {
  default: undefined,
  tlsv1_1: 'TLSv1.1',
  tlsv1_2: 'TLSv1.2',
  tlsv1_3: 'TLSv1.3',
};

function existingFile(cwd: string, path: string, flag: string, what: string): string {
  const abs = resolve(cwd, path);
  if (!isFile(abs)) throw new ConfigError(flag, `${flag}: '${abs}' is not a readable file; give ${what}`);
  return abs;
}

/** Whether OpenSSL accepts a cipher string (`TLS_` names are TLS 1.3 suites, the rest the TLS 1.2 list). */
function ciphersAccepted(list: string): boolean {
  try {
    createSecureContext({ ciphers: list });
    return true;
  } catch {
    return false;
  }
}

/**
 * A `--client-cert-allow` pattern: a name, or `*.` followed by a name (one leftmost label, as RFC 6125 §6.4.3 allows
 * for server names). Checked here so a typo fails at start, not at the first client.
 */
function checkAllowPattern(pattern: string): string {
  const body = pattern.startsWith('*.') ? pattern.slice(2) : pattern;
  if (body.length === 0 || body.includes('*') || /\s/.test(body)) {
    throw new ConfigError(
      '--client-cert-allow',
      `--client-cert-allow: '${pattern}' is not a name or '*.domain' pattern`,
    );
  }
  return pattern.toLowerCase();
}

function resolveTlsExtras(args: CliArgs, cwd: string): { clientCert?: ClientCertConfig; options: TlsOptionsConfig } {
  const rawMode = args.verifyClient ?? 'off';
  if (rawMode !== 'off' && rawMode !== 'optional' && rawMode !== 'required') {
    throw new ConfigError('--verify-client', `--verify-client: '${rawMode}' is not one of off, optional, required`);
  }
  const mode: VerifyClientMode = rawMode;
  const allow = (args.clientCertAllow ?? [])
    .flatMap((p) => p.split(/[\s,]+/))
    .filter((p) => p.length > 0)
    .map(checkAllowPattern);
  if (mode === 'off') {
    for (const [flag, given] of [
      ['--cafile', args.cafile],
      ['--crl', args.crl],
      ['--verify-depth', args.verifyDepth],
    ] as const) {
      if (given !== undefined)
        throw new ConfigError(flag, `${flag} checks client certificates; add --verify-client [optional|required]`);
    }
    if (allow.length > 0)
      throw new ConfigError('--client-cert-allow', '--client-cert-allow needs --verify-client [optional|required]');
    if (args.allowPlainWithVerifyClient)
      throw new ConfigError(
        '--allow-plain-with-verify-client',
        '--allow-plain-with-verify-client only matters with --verify-client',
      );
  }
  let verifyDepth: number | undefined;
  if (args.verifyDepth !== undefined) {
    if (!/^\s*\d{1,3}\s*$/.test(args.verifyDepth)) {
      throw new ConfigError(
        '--verify-depth',
        `--verify-depth: '${args.verifyDepth}' is not a whole number from 0 to 999 (intermediate CAs allowed)`,
      );
    }
    verifyDepth = Number(args.verifyDepth);
  }
  const clientCert: ClientCertConfig | undefined =
    mode === 'off'
      ? undefined
      : {
          mode,
          caFile:
            args.cafile === undefined
              ? undefined
              : existingFile(cwd, args.cafile, '--cafile', 'the PEM CA certificate(s) that issue client certificates'),
          crlFile:
            args.crl === undefined
              ? undefined
              : existingFile(cwd, args.crl, '--crl', 'a PEM certificate revocation list from the client CA'),
          verifyDepth,
          allowPlain: args.allowPlainWithVerifyClient ?? false,
          allow,
        };

  const profile = args.tlsProfile ?? 'intermediate';
  if (profile !== 'intermediate' && profile !== 'modern') {
    throw new ConfigError('--tls-profile', `--tls-profile: '${profile}' is not one of intermediate, modern`);
  }
  const versionName = (args.sslVersion ?? 'default').toLowerCase();
  if (!(versionName in SSL_VERSIONS)) {
    throw new ConfigError(
      '--ssl-version',
      `--ssl-version: '${args.sslVersion ?? ''}' is not one of default, tlsv1_1, tlsv1_2, tlsv1_3`,
    );
  }
  const minVersion = SSL_VERSIONS[versionName];
  if (profile === 'modern' && minVersion !== undefined && minVersion !== 'TLSv1.3') {
    throw new ConfigError(
      '--ssl-version',
      `--ssl-version ${versionName} contradicts --tls-profile modern (TLS 1.3 only); drop one of them`,
    );
  }
  if (args.sslCiphers !== undefined) {
    if (profile === 'modern')
      throw new ConfigError(
        '--ssl-ciphers',
        '--ssl-ciphers sets TLS 1.2 suites, but --tls-profile modern allows TLS 1.3 only; use --tls13-ciphers',
      );
    if (args.sslCiphers.split(':').some((c) => c.startsWith('TLS_')) || !ciphersAccepted(args.sslCiphers)) {
      throw new ConfigError(
        '--ssl-ciphers',
        `--ssl-ciphers: OpenSSL accepts no TLS 1.2 cipher in '${args.sslCiphers}'; write e.g. ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256 (TLS 1.3 suites go in --tls13-ciphers)`,
      );
    }
  }
  if (args.tls13Ciphers !== undefined) {
    const suites = args.tls13Ciphers.split(':');
    if (suites.some((c) => !c.startsWith('TLS_')) || !ciphersAccepted(args.tls13Ciphers)) {
      throw new ConfigError(
        '--tls13-ciphers',
        `--tls13-ciphers: '${args.tls13Ciphers}' is not a list of TLS 1.3 suites; write e.g. TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256`,
      );
    }
  }
  let ecdhCurve: string | undefined;
  if (args.ecdhCurve !== undefined) {
    const wanted = args.ecdhCurve.split(/[:,\s]+/).filter((g) => g.length > 0);
    const supported = wanted.filter((group) => {
      try {
        createSecureContext({ ecdhCurve: group });
        return true;
      } catch {
        return false;
      }
    });
    if (supported.length === 0) {
      throw new ConfigError(
        '--ecdh-curve',
        `--ecdh-curve: OpenSSL supports none of '${args.ecdhCurve}'; write e.g. X25519:P-256:P-384`,
      );
    }
    ecdhCurve = supported.join(':');
  }
  const hsts = args.hsts ?? '0';
  if (!/^\s*\d{1,10}\s*$/.test(hsts))
    throw new ConfigError(
      '--hsts',
      `--hsts: '${hsts}' is not a whole number of seconds (0 = off; 63072000 = two years)`,
    );
  const options: TlsOptionsConfig = {
    profile,
    minVersion,
    ciphers: args.sslCiphers,
    tls13Ciphers: args.tls13Ciphers,
    ecdhCurve,
    dhparamFile:
      args.dhparam === undefined
        ? undefined
        : existingFile(cwd, args.dhparam, '--dhparam', 'a PEM DH parameters file (openssl dhparam -out dh.pem 2048)'),
    chainFile:
      args.chain === undefined
        ? undefined
        : existingFile(cwd, args.chain, '--chain', 'the PEM intermediate certificate(s)'),
    hstsSeconds: Number(hsts),
    sessionTickets: args.sessionTickets ?? true,
    ticketRotateMs: parseSeconds(
      args.sessionTicketRotate ?? String(DEFAULTS.sessionTicketRotateSeconds),
      '--session-ticket-rotate',
    ),
    watchFiles: args.watchCerts ?? true,
  };
  return clientCert === undefined ? { options } : { clientCert, options };
}
