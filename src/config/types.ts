/**
 * Every configuration type: what `resolveConfig` produces and what the stages read. A leaf (only the pure policy
 * value types below it), so plugins (targets/, auth/, tls/peer.ts) import it without loading the plugin lists that
 * config/index.ts validates names with. Options are named without their dashes here:
 * the option table owns the flags.
 */
import type { AddressRange } from '../policy/cidr.js';
import type { Rate } from '../policy/rate-limit.js';

/** Where a session is relayed to. */
export type Target =
  // proxyProtocol: a per-target override of `proxyProtocolOut` (JSONTokenApi's "proxy_protocol"); 'none' turns it off.
  | { kind: 'tcp'; host: string; port: number; proxyProtocol?: 'v1' | 'v2' | 'none' }
  | { kind: 'unix'; path: string; proxyProtocol?: 'v1' | 'v2' | 'none' };

/** `verifyClient` modes (nginx's names): off, optional (403 at the upgrade without a verified cert), required. */
export type VerifyClientMode = 'off' | 'optional' | 'required';

/** Client-certificate settings. */
export interface ClientCertConfig {
  readonly mode: VerifyClientMode;
  /** CA certificates (PEM) client certificates must chain to; undefined = the system roots (websockify's default). */
  readonly caFile: string | undefined;
  /** CRL file (PEM) checked for the client certificate. */
  readonly crlFile: string | undefined;
  /** Most intermediate CA certificates allowed between the client certificate and the trusted CA. */
  readonly verifyDepth: number | undefined;
  /** Let plain ws:// upgrades through although client certificates are on. */
  readonly allowPlain: boolean;
  /** CN/SAN patterns (`*.` wildcards) a verified certificate must match; empty = any verified certificate. */
  readonly allow: readonly string[];
}

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
  /** Make a self-signed certificate in `stateDir` when `certFile` is missing (the `demo` start). */
  readonly generateIfMissing: boolean;
  /** Where generated state (the demo certificate) lives. */
  readonly stateDir: string;
  /** Client certificates (`verifyClient` and friends); absent = off. */
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
  /** Also require it for ordinary page requests (`webAuth`). */
  readonly webAuth: boolean;
  /** `plugin` is the absolute path of the operator's own module (`authPlugin ./x.js`). */
  readonly custom?: boolean;
}

/** Process lifetime rules (websockify's `runOnce`, timeout, `idleTimeout`); enforced by process/. */
export interface Lifecycle {
  readonly runOnce: boolean;
  /** Stop accepting this long after start, exit once sessions end (0 = never). */
  readonly timeoutMs: number;
  /** Exit after this long without any session (0 = never). */
  readonly idleTimeoutMs: number;
  /** SIGTERM: how long live sessions may go on after accepting stops, before they are closed with 1001. */
  readonly drainTimeoutMs?: number;
}

/** The admin listener (`adminListen`): metrics, health and sessions, on an address apart from the public port. */
export interface AdminConfig {
  readonly listen: { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };
  /** Bearer token required on every admin route but `/healthz` and `/readyz` (`adminTokenFile`). Never logged. */
  readonly token: string | undefined;
  /** The file it was read from (never served under `web`). */
  readonly tokenFile?: string | undefined;
}

/** What wrap mode does when the wrapped program exits (websockify's `wrapMode`). */
export type WrapMode = 'exit' | 'ignore' | 'respawn';

/** A program wsproxy starts and supervises (`-- COMMAND ARGS...`); sessions go to `targets` (its `wrapTarget`). */
export interface WrapConfig {
  /** Program and arguments, passed to the OS as they are (never through a shell). */
  readonly command: readonly [string, ...string[]];
  readonly mode: WrapMode;
}

/** Where `syslog` sends log lines: UDP to host:port, or a local unix (datagram) socket such as /dev/log. */
export type SyslogDestination = { kind: 'udp'; host: string; port: number } | { kind: 'unix'; path: string };

/** Syslog output (`syslog`, `legacySyslog`); enforced by process/. */
export interface SyslogConfig {
  readonly destination: SyslogDestination;
  /** RFC 3164 (BSD) lines instead of RFC 5424. */
  readonly legacy: boolean;
  /** `daemon` with -D, else `user` (websockify's choice). */
  readonly facility: 'user' | 'daemon';
}

/** Process-level behaviour that only process/ acts on: wrap mode, daemonising, pid file, syslog. */
export interface ProcessConfig {
  readonly wrap?: WrapConfig | undefined;
  /** `-D`: detach once listening. */
  readonly daemon: boolean;
  /** Absolute `pidFile` path. */
  readonly pidFile?: string | undefined;
  readonly syslog?: SyslogConfig | undefined;
}

/** Everything `createServer` needs. Tests build it directly. */
export interface Config {
  readonly listen: ListenAddress;
  readonly targets: TargetSource;
  readonly tls: TlsConfig;
  /** Absolute `web` root, or undefined for the built-in pages. */
  readonly webRoot: string | undefined;
  /** `webCsp`: Content-Security-Policy for `web` files; undefined = none (the directory owner's pages). */
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
  /** `record` file prefix (absolute), if recording. */
  readonly recordPrefix?: string | undefined;
  readonly lifecycle?: Lifecycle;
  /** Text frames: close with 1003 (default) or relay as bytes. */
  readonly textFrames?: TextFramePolicy;
  /** `traffic`: a character per frame on standard output (process/ supplies the writer). */
  readonly traffic?: boolean;
  /** Processes serving the listening address (`workers`); 1 = this process alone. */
  readonly workers?: number;
  /** Real client addresses behind a balancer, and PROXY protocol towards the target. Absent = all off. */
  readonly clientAddress?: ClientAddressConfig;
  /** Limits and policy (per-token cap, rate limit, target and Host allowlists, revalidation). Absent = defaults. */
  readonly policy?: PolicyConfig;
  /** `sslTarget`: TLS to TCP targets; undefined = plain TCP. */
  readonly targetTls?: TargetTlsConfig | undefined;
  /** The admin listener, if `adminListen` is given. */
  readonly admin?: AdminConfig | undefined;
  /** `httpUpstream`: normalised http(s) URL that ordinary requests wsproxy does not answer itself go to. */
  readonly httpUpstream?: string | undefined;
  /** `upstreamUnderscoreHeaders`: pass header names with `_` on to the upstream (default: dropped, as nginx). */
  readonly upstreamUnderscoreHeaders?: boolean;
  /** Wrap mode, daemon, pid file and syslog (process/ only; createServer ignores it). */
  readonly process?: ProcessConfig;
  /**
   * The secret that keys `token_hash` (targets/token-hash.ts): `tokenHashKeyFile` (`given`), else a file made in
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

/** TLS to the target (`sslTarget` and its `target-*` options). Files are absolute; tls/target.ts reads them at start. */
export interface TargetTlsConfig {
  /** `required` (default): certificate and host name verified; `none`: the operator's explicit choice, warned about. */
  readonly verify: 'required' | 'none';
  /** CAs to trust instead of the system store (`targetCa`). */
  readonly caFile?: string | undefined;
  /** SNI and the name the certificate must carry (`targetServername`; default the target host). */
  readonly servername?: string | undefined;
  /** Client certificate (and key, unless `keyFile`) for targets that want one. */
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
}
