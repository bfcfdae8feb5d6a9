/**
 * The command-line values resolveConfig takes, and the defaults the CLI and code-built configs share (moved verbatim
 * from config.ts; the option table is to replace both).
 */

/** Values as the command line delivers them; `cli.ts` produces this, `resolveConfig` checks it. */
export interface CliArgs {
  readonly positionals: readonly string[];
  readonly cert: string | undefined;
  readonly key: string | undefined;
  readonly keyPassword: string | undefined;
  readonly sslOnly: boolean;
  readonly web: string | undefined;
  readonly webCsp?: string | undefined;
  readonly fileOnly: boolean;
  readonly verbose: boolean;
  readonly demo: boolean;
  readonly stateDir: string | undefined;
  readonly allowOrigin: readonly string[];
  readonly handshakeTimeout: string;
  readonly connectTimeout: string;
  readonly maxMessageSize: string;
  /** Unset: the default, at least --max-message-size. */
  readonly maxBufferedTotal?: string | undefined;
  readonly maxConnections: string;
  readonly maxConnectionsPerIp: string;
  readonly highWaterMark: string;
  readonly shutdownTimeout: string;
  readonly heartbeat: string;
  readonly logFormat: string;
  readonly tokenPlugin: string | undefined;
  readonly tokenSource: string | undefined;
  readonly targetConfig: string | undefined;
  readonly hostToken: boolean;
  readonly tokenFromPath: boolean;
  readonly authPlugin: string | undefined;
  readonly authSource: string | undefined;
  readonly webAuth: boolean;
  readonly record: string | undefined;
  readonly runOnce: boolean;
  readonly timeout: string;
  readonly idleTimeout: string;
  readonly unixListen: string | undefined;
  readonly unixListenMode: string;
  readonly unixTarget: string | undefined;
  readonly inetd: boolean;
  readonly preferIpv6: boolean;
  readonly textFrames: string;
  readonly traffic: boolean;
  readonly logFile: string | undefined;
  readonly tokenJwtAudience: string | undefined;
  readonly tokenJwtIssuer: string | undefined;
  /** `--token-jwt-allow-no-exp` (optional so older callers keep compiling). */
  readonly tokenJwtAllowNoExp?: boolean;
  /** `--token-hash-key-file FILE`. */
  readonly tokenHashKeyFile?: string | undefined;
  // TLS: client certificates and protocol settings (optional so callers that predate them still type-check).
  readonly verifyClient?: string | undefined;
  readonly cafile?: string | undefined;
  readonly crl?: string | undefined;
  readonly verifyDepth?: string | undefined;
  readonly allowPlainWithVerifyClient?: boolean;
  readonly clientCertAllow?: readonly string[];
  readonly tlsProfile?: string | undefined;
  readonly sslVersion?: string | undefined;
  readonly sslCiphers?: string | undefined;
  readonly tls13Ciphers?: string | undefined;
  readonly ecdhCurve?: string | undefined;
  readonly dhparam?: string | undefined;
  readonly chain?: string | undefined;
  readonly hsts?: string | undefined;
  readonly sessionTickets?: boolean;
  readonly sessionTicketRotate?: string | undefined;
  readonly watchCerts?: boolean;
  /** Everything after `--`: the program to wrap. */
  readonly wrapCommand?: readonly string[];
  readonly wrapMode?: string;
  readonly wrapTarget?: string | undefined;
  readonly daemon?: boolean;
  readonly pidFile?: string | undefined;
  readonly syslog?: string | undefined;
  readonly legacySyslog?: boolean;
  readonly httpUpstream?: string | undefined;
  readonly upstreamUnderscoreHeaders?: boolean;
  // Operations (optional so code that builds CliArgs by hand keeps compiling).
  readonly adminListen?: string | undefined;
  readonly adminTokenFile?: string | undefined;
  readonly drainTimeout?: string | undefined;
  readonly logLevel?: string | undefined;
  readonly sslTarget?: boolean;
  readonly targetCa?: string | undefined;
  readonly targetServername?: string | undefined;
  readonly targetVerify?: string | undefined;
  readonly targetCert?: string | undefined;
  readonly targetKey?: string | undefined;
  // Real client addresses, limits and policy (optional so older callers keep compiling).
  readonly proxyProtocolIn?: boolean;
  readonly trustedProxy?: readonly string[];
  readonly trustForwarded?: boolean;
  readonly proxyProtocolOut?: string | undefined;
  readonly maxSessionsPerToken?: string;
  readonly rateLimit?: string | undefined;
  readonly authFailureLimit?: string | undefined;
  readonly allowTarget?: readonly string[];
  readonly allowedHost?: readonly string[];
  readonly revalidateInterval?: string;
  /** `--workers N|auto` as typed. */
  readonly workers?: string | undefined;
}

/** Defaults shared by the CLI spec and code that builds `Config` directly. */
export const DEFAULTS = {
  cert: 'self.pem',
  handshakeTimeoutSeconds: 10,
  connectTimeoutSeconds: 10,
  maxMessageSize: '16MiB',
  maxBufferedTotal: '64MiB',
  maxConnections: 10000,
  maxConnectionsPerIp: 256,
  highWaterMark: '64KiB',
  shutdownTimeoutSeconds: 10,
  heartbeatSeconds: 0,
  drainTimeoutSeconds: 30,
  sessionTicketRotateSeconds: 86_400,
  authFailureLimit: '10/min',
} as const;
