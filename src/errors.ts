import { flag } from './config/options/index.js';
/**
 * Stable reason codes. Every refusal, dropped connection and session close carries one of these, in its log line and
 * (for HTTP refusals) in the `X-Wsproxy-Reason` header. docs/errors.md is generated from this list
 * (`npm run docs`), and a test fails when it is stale.
 */
export const REASONS = {
  // HTTP answers before any WebSocket exists.
  BAD_REQUEST: { status: 400, text: 'The HTTP request is malformed.' },
  BAD_FRAMING: {
    status: 400,
    text: 'The request body framing is ambiguous: use one Content-Length of plain digits or Transfer-Encoding: chunked alone.',
  },
  HEADERS_TOO_LARGE: { status: 431, text: 'The request headers are larger than the server accepts.' },
  EXPECTATION_FAILED: { status: 417, text: "Only 'Expect: 100-continue' is understood." },
  METHOD_NOT_ALLOWED: { status: 405, text: 'Only GET and HEAD are served.' },
  NOT_FOUND: { status: 404, text: 'No such file.' },
  BAD_HANDSHAKE: { status: 400, text: 'The WebSocket handshake is invalid.' },
  UNSUPPORTED_VERSION: { status: 426, text: 'Only WebSocket version 13 is supported.' },
  SUBPROTOCOL_UNSUPPORTED: {
    status: 400,
    text: "None of the offered subprotocols is supported; offer 'binary', 'base64' or none.",
  },
  ORIGIN_FORBIDDEN: { status: 403, text: 'The Origin of the page is not allowed to connect.' },
  AUTH_REQUIRED: { status: 401, text: 'Credentials are required (the auth plugin asked for them).' },
  AUTH_FORBIDDEN: { status: 403, text: 'The auth plugin refused this request.' },
  TOKEN_MISSING: { status: 401, text: 'The request carries no token; add ?token=TOKEN to the WebSocket URL.' },
  TOKEN_UNKNOWN: { status: 404, text: 'The token is not known.' },
  TOKEN_SOURCE_DOWN: { status: 503, text: 'The token source cannot be reached; try again later.' },
  TARGET_REFUSED: { status: 502, text: 'The target refused the connection.' },
  TARGET_UNREACHABLE: { status: 502, text: 'The target is unreachable.' },
  TARGET_DNS: { status: 502, text: 'The target host name does not resolve.' },
  TARGET_FAILED: { status: 502, text: 'Connecting to the target failed.' },
  TARGET_TIMEOUT: { status: 504, text: 'Connecting to the target timed out.' },
  TARGET_TLS_UNKNOWN_CA: {
    status: 502,
    text: "Target TLS failed: the target's certificate is not signed by a trusted CA.",
  },
  TARGET_TLS_NAME_MISMATCH: {
    status: 502,
    text: "Target TLS failed: the target's certificate does not name the target host.",
  },
  TARGET_TLS_EXPIRED: {
    status: 502,
    text: "Target TLS failed: the target's certificate has expired or is not yet valid.",
  },
  TARGET_TLS_FAILED: { status: 502, text: 'Target TLS failed: the TLS handshake with the target did not complete.' },
  SHUTTING_DOWN: { status: 503, text: 'The server is shutting down.' },
  RUN_ONCE_BUSY: { status: 503, text: `With ${flag('runOnce')} the server serves one session, and it is taken.` },
  // Limits and policy (README "Operations").
  HOST_NOT_ALLOWED: {
    status: 421,
    text: `The Host header is not a name of this server (${flag('allowedHost')}, or the automatic list when it is not given).`,
  },
  RATE_LIMITED: {
    status: 429,
    text: `Too many handshakes from this client address (${flag('rateLimit')}); see Retry-After.`,
  },
  AUTH_RATE_LIMITED: {
    status: 429,
    text: `Too many unknown tokens or failed logins from this client address (${flag('authFailureLimit')}); see Retry-After.`,
  },
  TOKEN_SESSION_LIMIT: { status: 429, text: `This token already has ${flag('maxSessionsPerToken')} live sessions.` },
  TARGET_FORBIDDEN: {
    status: 403,
    text: `The target address is not allowed (${flag('allowTarget')}, or a link-local/metadata address).`,
  },
  UPSTREAM_FAILED: { status: 502, text: `The application behind this proxy (${flag('httpUpstream')}) did not answer.` },
  CLIENT_CERT_PLAIN: {
    status: 403,
    text: `Client certificates are required: plain ws:// upgrades are refused (see ${flag('allowPlainWithVerifyClient')}).`,
  },
  CLIENT_CERT_REQUIRED: {
    status: 403,
    text: `The upgrade (with ${flag('verifyClient')} required, any request) needs a verified client certificate.`,
  },
  HTTPS_REQUIRED: {
    status: 403,
    text: `With ${flag('verifyClient')} required, plain http:// requests are refused: use https:// (see ${flag('allowPlainWithVerifyClient')}).`,
  },
  CLIENT_CERT_NOT_ALLOWED: {
    status: 403,
    text: `The client certificate matches no ${flag('clientCertAllow')} pattern.`,
  },
  // Connections closed without an HTTP answer (nothing sensible can be said on that socket).
  HANDSHAKE_TIMEOUT: { text: 'The client did not finish its handshake (first byte, TLS, request headers) in time.' },
  TLS_HANDSHAKE_FAILED: { text: 'The TLS handshake failed.' },
  TLS_NOT_CONFIGURED: { text: 'A TLS client arrived but no certificate is loaded.' },
  TLS_CLIENT_CERT_REJECTED: {
    text: `With ${flag('verifyClient')} required, the client sent no certificate or one that failed verification.`,
  },
  PLAIN_REFUSED: { text: `A plain (non-TLS) client arrived while ${flag('sslOnly')} is set.` },
  CONNECTION_LIMIT: { text: `The server is at ${flag('maxConnections')}.` },
  CONNECTION_LIMIT_PER_IP: { text: `This client address is at ${flag('maxConnectionsPerIp')}.` },
  // Clients that went away before their session began; not counted as handshake failures.
  CLIENT_LEFT_EARLY: { text: 'The client closed the connection before sending anything (or only blank lines).' },
  PROXY_HEADER_INCOMPLETE: {
    text: 'A trusted peer closed the connection before its PROXY protocol header was complete.',
  },
  CLIENT_RESET: { text: 'The client connection broke (reset, broken pipe, or closed) before its session began.' },
  CLIENT_TLS_ERROR: {
    text: "The client's TLS layer failed after the handshake (OpenSSL refused what it sent), before a session began.",
  },
  CLIENT_LEFT_UPGRADE: {
    text: 'The client went away during its WebSocket upgrade (while the target was being connected, or before the 101).',
  },
  UPSTREAM_CLIENT_GONE: {
    text: `The client of a ${flag('httpUpstream')} request went away before its response was sent.`,
  },
  PROXY_UNTRUSTED: {
    text: `A connection arrived from outside ${flag('trustedProxy')} while ${flag('proxyProtocolIn')} is set.`,
  },
  PROXY_HEADER_INVALID: { text: 'A trusted peer sent no valid PROXY protocol header.' },
  // How a relayed session ended, with the WebSocket close code sent to the client (if one could be sent).
  TARGET_CLOSED: { closeCode: 1000, text: 'The target closed the connection.' },
  CLIENT_CLOSED: { text: 'The client closed the WebSocket; its own close code is logged.' },
  CLIENT_GONE: { closeCode: 1006, text: 'The client connection dropped without a close frame.' },
  BAD_BASE64: {
    closeCode: 1007,
    text: "A client of the legacy 'base64' subprotocol sent a text frame that is not valid base64.",
  },
  TEXT_FRAME: { closeCode: 1003, text: 'The client sent a text frame; only binary frames are relayed.' },
  MESSAGE_TOO_BIG: { closeCode: 1009, text: `The client sent a message larger than ${flag('maxMessageSize')}.` },
  MESSAGE_BUFFER_FULL: {
    closeCode: 1009,
    text: `Unfinished client messages of all sessions would have passed ${flag('maxBufferedTotal')}; this session, the one adding to them, was closed.`,
  },
  PROTOCOL_ERROR: { closeCode: 1002, text: 'The client broke the WebSocket protocol.' },
  TARGET_ERROR: { closeCode: 1011, text: 'The target connection failed mid-session.' },
  SERVER_SHUTDOWN: { closeCode: 1001, text: 'The server is shutting down.' },
  TOKEN_REVOKED: { closeCode: 1008, text: 'The token of this session was removed from its source.' },
  TOKEN_TARGET_CHANGED: { closeCode: 1008, text: 'The token of this session now points to another target.' },
  HEARTBEAT_TIMEOUT: {
    closeCode: 1006,
    text: `The client did not answer a ping within ${flag('heartbeat')} seconds; the connection was cut.`,
  },
  // The per-connection error boundary (src/boundary.ts): a bug met while serving one connection ends only that one.
  // 500 before the upgrade; after it the same code closes the session with 1011 (given by the relay, since an entry
  // is either an HTTP answer or a close).
  INTERNAL_ERROR: {
    status: 500,
    text: 'wsproxy failed while serving this connection; the error is logged. Other connections go on.',
  },
  // Not about the connection: the session goes on.
  RECORDING_DROPPED: {
    text: `The disk fell too far behind a recorded session (${flag('record')}: 16 MiB beyond room for one largest message); its recording was ended, the session goes on.`,
  },
  // Operations (admin listener).
  ADMIN_BROWSER_REFUSED: {
    status: 403,
    text: 'The admin API takes no changes from web browsers (the request carried Origin or Sec-Fetch-Site).',
  },
  ADMIN_HOST_NOT_ALLOWED: {
    status: 421,
    text: `Without ${flag('adminTokenFile')} the admin listener answers only Host: localhost or an IP address (DNS rebinding).`,
  },
  ADMIN_CLOSED: {
    closeCode: 1008,
    text: 'An operator closed the session (DELETE /sessions/{id} on the admin listener).',
  },
  // Warnings said once at start (and by `wsproxy check`); nothing is refused.
  OPEN_RELAY: {
    text: 'A non-loopback listener relays every client to a fixed target with no token, auth plugin or required client certificate.',
  },
  WEB_SECRET_HIDDEN: {
    text: `Files in the ${flag('web')} root hold secrets (configured keys, tokens, private keys); they are answered 404.`,
  },
} as const satisfies Record<string, { status?: number; closeCode?: number; text: string }>;

/** A stable reason code from {@link REASONS}. */
export type ReasonCode = keyof typeof REASONS;

/** Reason codes that are answered with an HTTP status. */
export type HttpReasonCode = {
  [K in ReasonCode]: (typeof REASONS)[K] extends { status: number } ? K : never;
}[ReasonCode];

/** The HTTP status a reason code maps to, if it is answered over HTTP. */
export function httpStatusOf(code: ReasonCode): number | undefined {
  const entry = REASONS[code];
  return 'status' in entry ? entry.status : undefined;
}

/** Whether a reason code is answered with an HTTP status. */
export function isHttpReason(code: ReasonCode): code is HttpReasonCode {
  return 'status' in REASONS[code];
}

/** The WebSocket close code a reason code maps to, if it has a fixed one. */
export function closeCodeOf(code: ReasonCode): number | undefined {
  const entry = REASONS[code];
  return 'closeCode' in entry ? entry.closeCode : undefined;
}

/**
 * The base of every error class wsproxy defines; all of them live in this file. `code` is stable and machine-readable
 * and set by the constructor (never attached afterwards: callers test `instanceof`, so an ad-hoc `code` means nothing);
 * `message` is for people and never contains a secret.
 */
export abstract class WsproxyError<C extends string = string> extends Error {
  abstract readonly code: C;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
}

/** A refused or ended connection: `code` is a reason from {@link REASONS} (log line, `X-Wsproxy-Reason`, close). */
export class ProxyError extends WsproxyError<ReasonCode> {
  readonly code: ReasonCode;

  constructor(code: ReasonCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? REASONS[code].text, options);
    this.code = code;
  }

  /** HTTP status for this error, when it is answered before the upgrade. */
  get httpStatus(): number | undefined {
    return httpStatusOf(this.code);
  }

  /** WebSocket close code for this error, when it ends a session. */
  get closeCode(): number | undefined {
    return closeCodeOf(this.code);
  }
}

/** The `code` property of a Node system error (`ECONNREFUSED`, …), if there is one. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** The first line of an error's message, for a one-line answer (plugins and loaders put details on later lines). */
export function firstLine(err: unknown): string {
  return ((err as Error).message ?? String(err)).split('\n')[0] ?? 'unusable';
}

/**
 * The reason code for a client socket error before its session: a failed TLS layer (Node's `ERR_SSL_*`) or a broken
 * connection (reset, broken pipe, anything else).
 */
export function clientFailureReason(err: unknown): 'CLIENT_TLS_ERROR' | 'CLIENT_RESET' {
  return errnoCode(err)?.startsWith('ERR_SSL_') ? 'CLIENT_TLS_ERROR' : 'CLIENT_RESET';
}

/**
 * Why a configuration reload (SIGHUP, `POST /reload`) was refused. A refused reload changes nothing: the running
 * configuration stays in use entirely. Kept apart from {@link REASONS}, which are about connections (and are counted
 * as refusals by the metrics); docs/errors.md lists both.
 */
export const RELOAD_REASONS = {
  CONFIG_UNREADABLE: 'The config file cannot be read (missing, or no permission).',
  CONFIG_SYNTAX: 'The config file is not valid YAML or JSON, or not a mapping of option names to values.',
  CONFIG_INVALID:
    'An option (config file, environment or command line) is unknown, has a bad value, or names a file that is not there.',
  CERTIFICATE_UNUSABLE: 'The TLS certificate, key, chain, client CA, CRL or DH parameters cannot be used.',
  TARGET_TLS_UNUSABLE: `A ${flag('targetCa')}, ${flag('targetCert')} or ${flag('targetKey')} file cannot be used.`,
  TOKEN_SOURCE_UNUSABLE: 'The new token source cannot be built or does not answer.',
  PLUGIN_UNUSABLE: `An ${flag('authPlugin')} or ${flag('tokenPlugin')} module cannot be loaded.`,
  RELOAD_UNAVAILABLE:
    'The server is starting or shutting down, or a worker did not answer; nothing was reloaded there.',
} as const satisfies Record<string, string>;

/** A stable reason code from {@link RELOAD_REASONS}. */
export type ReloadReason = keyof typeof RELOAD_REASONS;

/** A refused reload: `code` is stable, `message` names the flag or file and never holds a secret value. */
export class ReloadError extends WsproxyError<ReloadReason> {
  readonly code: ReloadReason;
  /** The option at fault (`cert`, `tokenSource`), when one is. */
  readonly flag: string | undefined;

  constructor(code: ReloadReason, message: string, options?: { flag?: string | undefined; cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.flag = options?.flag;
  }
}

/**
 * A file, plugin or token source that cannot be used at start: one line naming the option, exit 2 (a reload refuses
 * the same problem with a {@link ReloadError} of the same code).
 */
export class SetupError extends WsproxyError<'TARGET_TLS_UNUSABLE' | 'TOKEN_SOURCE_UNUSABLE' | 'PLUGIN_UNUSABLE'> {
  readonly code: 'TARGET_TLS_UNUSABLE' | 'TOKEN_SOURCE_UNUSABLE' | 'PLUGIN_UNUSABLE';

  constructor(code: SetupError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A bad option: `flag` names it, the message says what is wrong and how to fix it. */
export class ConfigError extends WsproxyError<'CONFIG_INVALID'> {
  readonly code = 'CONFIG_INVALID';

  constructor(
    readonly flag: string,
    message: string,
  ) {
    super(message);
  }
}

/** What kind of mistake a {@link SourceError} is: the file cannot be read, cannot be parsed, or holds a bad entry. */
export type SourceProblem = 'unreadable' | 'syntax' | 'invalid';

/** The reload reason code of each kind of config-file mistake (a {@link UsageError} carries its kind as `source`). */
export const SOURCE_CODES = {
  unreadable: 'CONFIG_UNREADABLE',
  syntax: 'CONFIG_SYNTAX',
  invalid: 'CONFIG_INVALID',
} as const satisfies Record<SourceProblem, ReloadReason>;

/** A config-file or environment mistake, phrased for one stderr line. */
export class SourceError extends WsproxyError<(typeof SOURCE_CODES)[SourceProblem]> {
  readonly code: (typeof SOURCE_CODES)[SourceProblem];

  constructor(
    message: string,
    /** Lets a reload report a stable reason code (CONFIG_UNREADABLE, CONFIG_SYNTAX, CONFIG_INVALID). */
    readonly problem: SourceProblem = 'invalid',
  ) {
    super(message);
    this.code = SOURCE_CODES[problem];
  }
}

/** A command-line mistake: one line, for stderr, exit code 2. */
export class UsageError extends WsproxyError<'USAGE'> {
  readonly code = 'USAGE';

  constructor(
    message: string,
    /** For a mistake in the config file: whether it could not be read, not be parsed, or holds a bad entry. */
    readonly source?: SourceProblem,
  ) {
    super(message);
  }
}

/** A problem with an `authPlugin`/`tokenPlugin` module itself: reported as one line naming the flag, exit 2. */
export class PluginModuleError extends WsproxyError<'PLUGIN_UNUSABLE'> {
  readonly code = 'PLUGIN_UNUSABLE';
}

/** A bad input to certificate generation (`wsproxy cert`); the message names the value and the fix. */
export class CertInputError extends WsproxyError<'CERT_INPUT_INVALID'> {
  readonly code = 'CERT_INPUT_INVALID';
}

/** Why a certificate could not be loaded; the message names the file and the fix, never the key password. */
export class CertificateError extends WsproxyError<'CERTIFICATE_UNUSABLE'> {
  readonly code = 'CERTIFICATE_UNUSABLE';

  constructor(
    message: string,
    /** The file is not there (as opposed to there but unusable). */
    readonly missing: boolean,
  ) {
    super(message);
  }
}

/** The admin listener could not listen; `cause` is the listen error (process/listening.ts words it like the main listener's). */
export class AdminListenError extends WsproxyError<'ADMIN_LISTEN_FAILED'> {
  readonly code = 'ADMIN_LISTEN_FAILED';

  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** A path wsproxy would bind a unix socket on exists and is not a socket (so it is not removed). */
export class NotASocketError extends WsproxyError<'EEXIST'> {
  readonly code = 'EEXIST';
}

/** Something wsproxy waits for (a connect, a TLS handshake, an upstream, a check) took too long; errno-like code. */
export class TimeoutError extends WsproxyError<'ETIMEDOUT'> {
  readonly code = 'ETIMEDOUT';
}

/** A target connect given up because the client went away first. */
export class AbortedError extends WsproxyError<'ABORTED'> {
  readonly code = 'ABORTED';

  constructor() {
    super('client went away');
  }
}

/** The log output (a pipe or file descriptor) was not read for too long; lines are dropped until it is. */
export class LogStalledError extends WsproxyError<'EAGAIN'> {
  readonly code = 'EAGAIN';
}
