/**
 * What a configuration reload (SIGHUP, `POST /reload`; issue #7 "Operations") may change, decided on values: which
 * options differ between the running and the new `Config`, which of them apply live and which need a restart (they
 * are bound into the listening socket, the process or the worker pool), and the `Config` to apply — the new one with
 * the restart-only parts kept as they run. Also the one set of log lines a reload leaves, shared by the server and
 * the `--workers` primary so both read alike. Pure apart from the logging; `server.ts` and `main.ts` act on it.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Config } from './config/types.js';
import type { ReloadReason } from './errors.js';
import type { LogFields, Logger } from './log.js';

/** One option as a reload sees it: the name operators know, whether it applies live, and how to read it. */
export interface ReloadField {
  /** The option's name (`allow-origin`, `listen`); what the reload lines and `POST /reload` report. */
  readonly name: string;
  /** Applies to new connections without a restart. */
  readonly live: boolean;
  /** The command-line options that feed it (a test checks every option is covered). */
  readonly flags: readonly string[];
  readonly read: (c: Config) => unknown;
}

const tokenSource = (c: Config) =>
  c.process?.wrap === undefined && c.targets.kind === 'token' ? c.targets : undefined;
const tlsOptions = (c: Config) => c.tls.options;

/**
 * Every option, in the order reports list them. A value compared here never leaves this module: reports carry names
 * only, so `key-password`, `auth-source` or the admin token cannot reach a log line through a reload.
 */
export const RELOAD_FIELDS: readonly ReloadField[] = [
  // Bound at start: the listening socket, the process model, where logs go.
  {
    name: 'listen',
    live: false,
    flags: ['unix-listen', 'unix-listen-mode', 'inetd', 'prefer-ipv6'],
    read: (c) => c.listen,
  },
  { name: 'workers', live: false, flags: ['workers'], read: (c) => c.workers ?? 1 },
  { name: 'admin-listen', live: false, flags: ['admin-listen'], read: (c) => c.admin?.listen },
  { name: 'http-upstream', live: false, flags: ['http-upstream'], read: (c) => c.httpUpstream },
  { name: 'daemon', live: false, flags: ['daemon'], read: (c) => c.process?.daemon ?? false },
  { name: 'pid-file', live: false, flags: ['pid-file'], read: (c) => c.process?.pidFile },
  { name: 'syslog', live: false, flags: ['syslog', 'legacy-syslog'], read: (c) => c.process?.syslog },
  { name: 'log-file', live: false, flags: ['log-file'], read: (c) => c.log.file },
  { name: 'wrap-mode', live: false, flags: ['wrap-mode'], read: (c) => c.process?.wrap },
  // The wrapped program was told where to listen when it started.
  {
    name: 'wrap-target',
    live: false,
    flags: ['wrap-target'],
    read: (c) => (c.process?.wrap === undefined ? undefined : c.targets),
  },
  { name: 'run-once', live: false, flags: ['run-once'], read: (c) => c.lifecycle?.runOnce ?? false },
  { name: 'timeout', live: false, flags: ['timeout'], read: (c) => c.lifecycle?.timeoutMs ?? 0 },
  { name: 'idle-timeout', live: false, flags: ['idle-timeout'], read: (c) => c.lifecycle?.idleTimeoutMs ?? 0 },
  // Where sessions go.
  {
    name: 'target',
    live: true,
    flags: ['unix-target'],
    read: (c) => (c.process?.wrap === undefined && c.targets.kind === 'fixed' ? c.targets.target : undefined),
  },
  { name: 'demo', live: true, flags: ['demo'], read: (c) => c.targets.kind === 'demo' },
  { name: 'token-plugin', live: true, flags: ['token-plugin', 'target-config'], read: (c) => tokenSource(c)?.plugin },
  { name: 'token-source', live: true, flags: ['token-source', 'target-config'], read: (c) => tokenSource(c)?.source },
  { name: 'host-token', live: true, flags: ['host-token'], read: (c) => tokenSource(c)?.from === 'host' },
  { name: 'token-from-path', live: true, flags: ['token-from-path'], read: (c) => tokenSource(c)?.from === 'path' },
  { name: 'token-jwt-audience', live: true, flags: ['token-jwt-audience'], read: (c) => tokenSource(c)?.jwtAudience },
  { name: 'token-jwt-issuer', live: true, flags: ['token-jwt-issuer'], read: (c) => tokenSource(c)?.jwtIssuer },
  {
    name: 'token-jwt-allow-no-exp',
    live: true,
    flags: ['token-jwt-allow-no-exp'],
    read: (c) => tokenSource(c)?.jwtAllowNoExp ?? false,
  },
  // Loaded once per process: hashes in logs, recordings and Redis keys must not change under running sessions.
  { name: 'token-hash-key-file', live: false, flags: ['token-hash-key-file'], read: (c) => c.tokenHashKey },
  // TLS towards clients: the certificate reload path.
  { name: 'cert', live: true, flags: ['cert'], read: (c) => [c.tls.certFile, c.tls.certGiven] },
  { name: 'key', live: true, flags: ['key'], read: (c) => c.tls.keyFile },
  { name: 'key-password', live: true, flags: ['key-password'], read: (c) => c.tls.keyPassword },
  { name: 'ssl-only', live: true, flags: ['ssl-only'], read: (c) => c.tls.sslOnly },
  { name: 'state-dir', live: true, flags: ['state-dir'], read: (c) => c.tls.stateDir },
  { name: 'verify-client', live: true, flags: ['verify-client'], read: (c) => c.tls.clientCert?.mode ?? 'off' },
  { name: 'cafile', live: true, flags: ['cafile'], read: (c) => c.tls.clientCert?.caFile },
  { name: 'crl', live: true, flags: ['crl'], read: (c) => c.tls.clientCert?.crlFile },
  { name: 'verify-depth', live: true, flags: ['verify-depth'], read: (c) => c.tls.clientCert?.verifyDepth },
  {
    name: 'allow-plain-with-verify-client',
    live: true,
    flags: ['allow-plain-with-verify-client'],
    read: (c) => c.tls.clientCert?.allowPlain ?? false,
  },
  { name: 'client-cert-allow', live: true, flags: ['client-cert-allow'], read: (c) => c.tls.clientCert?.allow ?? [] },
  { name: 'tls-profile', live: true, flags: ['tls-profile'], read: (c) => tlsOptions(c)?.profile },
  { name: 'ssl-version', live: true, flags: ['ssl-version'], read: (c) => tlsOptions(c)?.minVersion },
  { name: 'ssl-ciphers', live: true, flags: ['ssl-ciphers'], read: (c) => tlsOptions(c)?.ciphers },
  { name: 'tls13-ciphers', live: true, flags: ['tls13-ciphers'], read: (c) => tlsOptions(c)?.tls13Ciphers },
  { name: 'ecdh-curve', live: true, flags: ['ecdh-curve'], read: (c) => tlsOptions(c)?.ecdhCurve },
  { name: 'dhparam', live: true, flags: ['dhparam'], read: (c) => tlsOptions(c)?.dhparamFile },
  { name: 'chain', live: true, flags: ['chain'], read: (c) => tlsOptions(c)?.chainFile },
  { name: 'hsts', live: true, flags: ['hsts'], read: (c) => tlsOptions(c)?.hstsSeconds ?? 0 },
  {
    name: 'session-tickets',
    live: true,
    flags: ['session-tickets'],
    read: (c) => tlsOptions(c)?.sessionTickets ?? true,
  },
  {
    name: 'session-ticket-rotate',
    live: true,
    flags: ['session-ticket-rotate'],
    read: (c) => tlsOptions(c)?.ticketRotateMs,
  },
  { name: 'watch-certs', live: true, flags: ['watch-certs'], read: (c) => tlsOptions(c)?.watchFiles ?? true },
  // Pages, handshakes and sessions.
  { name: 'web', live: true, flags: ['web'], read: (c) => c.webRoot },
  { name: 'web-csp', live: true, flags: ['web-csp'], read: (c) => c.webCsp },
  { name: 'allow-origin', live: true, flags: ['allow-origin'], read: (c) => c.allowOrigins },
  { name: 'handshake-timeout', live: true, flags: ['handshake-timeout'], read: (c) => c.limits.handshakeTimeoutMs },
  { name: 'connect-timeout', live: true, flags: ['connect-timeout'], read: (c) => c.limits.connectTimeoutMs },
  { name: 'max-message-size', live: true, flags: ['max-message-size'], read: (c) => c.limits.maxMessageBytes },
  { name: 'max-buffered-total', live: true, flags: ['max-buffered-total'], read: (c) => c.limits.maxBufferedTotal },
  { name: 'max-connections', live: true, flags: ['max-connections'], read: (c) => c.limits.maxConnections },
  {
    name: 'max-connections-per-ip',
    live: true,
    flags: ['max-connections-per-ip'],
    read: (c) => c.limits.maxConnectionsPerIp,
  },
  { name: 'high-water-mark', live: true, flags: ['high-water-mark'], read: (c) => c.limits.highWaterMark },
  { name: 'shutdown-timeout', live: true, flags: ['shutdown-timeout'], read: (c) => c.limits.shutdownTimeoutMs },
  { name: 'heartbeat', live: true, flags: ['heartbeat'], read: (c) => c.limits.heartbeatMs },
  { name: 'drain-timeout', live: true, flags: ['drain-timeout'], read: (c) => c.lifecycle?.drainTimeoutMs },
  { name: 'text-frames', live: true, flags: ['text-frames'], read: (c) => c.textFrames ?? 'reject' },
  { name: 'traffic', live: true, flags: ['traffic'], read: (c) => c.traffic ?? false },
  { name: 'log-level', live: true, flags: ['log-level', 'verbose'], read: (c) => c.log.level },
  { name: 'log-format', live: true, flags: ['log-format'], read: (c) => c.log.format },
  { name: 'auth-plugin', live: true, flags: ['auth-plugin'], read: (c) => c.auth?.plugin },
  { name: 'auth-source', live: true, flags: ['auth-source'], read: (c) => c.auth?.source },
  { name: 'web-auth', live: true, flags: ['web-auth'], read: (c) => c.auth?.webAuth ?? false },
  {
    name: 'upstream-underscore-headers',
    live: true,
    flags: ['upstream-underscore-headers'],
    read: (c) => c.upstreamUnderscoreHeaders ?? false,
  },
  { name: 'record', live: true, flags: ['record'], read: (c) => c.recordPrefix },
  // Real client addresses and policy.
  {
    name: 'proxy-protocol-in',
    live: true,
    flags: ['proxy-protocol-in'],
    read: (c) => c.clientAddress?.proxyProtocolIn ?? false,
  },
  {
    name: 'trusted-proxy',
    live: true,
    flags: ['trusted-proxy'],
    read: (c) => c.clientAddress?.trustedProxies.map((r) => r.text) ?? [],
  },
  {
    name: 'trust-forwarded',
    live: true,
    flags: ['trust-forwarded'],
    read: (c) => c.clientAddress?.trustForwarded ?? false,
  },
  {
    name: 'proxy-protocol-out',
    live: true,
    flags: ['proxy-protocol-out'],
    read: (c) => c.clientAddress?.proxyProtocolOut,
  },
  {
    name: 'max-sessions-per-token',
    live: true,
    flags: ['max-sessions-per-token'],
    read: (c) => c.policy?.maxSessionsPerToken ?? 0,
  },
  { name: 'rate-limit', live: true, flags: ['rate-limit'], read: (c) => c.policy?.rateLimit },
  { name: 'auth-failure-limit', live: true, flags: ['auth-failure-limit'], read: (c) => c.policy?.authFailureLimit },
  {
    name: 'allow-target',
    live: true,
    flags: ['allow-target'],
    read: (c) => c.policy?.allowTargets.map((r) => r.text) ?? [],
  },
  { name: 'allowed-host', live: true, flags: ['allowed-host'], read: (c) => c.policy?.allowedHosts ?? [] },
  {
    name: 'revalidate-interval',
    live: true,
    flags: ['revalidate-interval'],
    read: (c) => c.policy?.revalidateIntervalMs ?? 0,
  },
  // TLS towards the target.
  { name: 'ssl-target', live: true, flags: ['ssl-target'], read: (c) => c.targetTls !== undefined },
  { name: 'target-ca', live: true, flags: ['target-ca'], read: (c) => c.targetTls?.caFile },
  { name: 'target-servername', live: true, flags: ['target-servername'], read: (c) => c.targetTls?.servername },
  { name: 'target-verify', live: true, flags: ['target-verify'], read: (c) => c.targetTls?.verify },
  { name: 'target-cert', live: true, flags: ['target-cert'], read: (c) => c.targetTls?.certFile },
  { name: 'target-key', live: true, flags: ['target-key'], read: (c) => c.targetTls?.keyFile },
  { name: 'admin-token-file', live: true, flags: ['admin-token-file'], read: (c) => c.admin?.token },
];

/**
 * Options that are not part of a serving configuration (help, `wsproxy cert …`, the config file's own name) or are
 * accepted and ignored for websockify compatibility.
 */
export const NOT_RELOADED_OPTIONS: readonly string[] = [
  'config',
  'help',
  'version',
  'file-only',
  'libserver',
  'generate-certs',
  'generate-user-pkcs',
  'host',
  'days',
  'cert-dir',
  'p12-password-file',
  'p12-compat',
];

/** Which options differ: `changed` apply live, `restartNeeded` keep their running values until a restart. */
export interface ConfigChanges {
  readonly changed: readonly string[];
  readonly restartNeeded: readonly string[];
}

/** Compares two configurations option by option (pure). */
export function diffConfig(running: Config, next: Config): ConfigChanges {
  const changed: string[] = [];
  const restartNeeded: string[] = [];
  for (const field of RELOAD_FIELDS) {
    if (isDeepStrictEqual(field.read(running), field.read(next))) continue;
    (field.live ? changed : restartNeeded).push(field.name);
  }
  return { changed, restartNeeded };
}

/**
 * The configuration a reload applies: `next`, with everything that needs a restart kept as it runs (pure). The
 * admin listener's address stays; its bearer token may change. Lifetime rules stay, except `--drain-timeout`.
 */
export function applicableConfig(running: Config, next: Config): Config {
  const out: { -readonly [K in keyof Config]: Config[K] } = {
    ...next,
    listen: running.listen,
    httpUpstream: running.httpUpstream,
    log: { ...next.log, file: running.log.file },
  };
  out.admin =
    running.admin !== undefined && next.admin !== undefined
      ? { ...next.admin, listen: running.admin.listen }
      : running.admin;
  // Optional members: absent in the running config means absent in the applied one too.
  if (running.workers === undefined) delete out.workers;
  else out.workers = running.workers;
  if (running.process === undefined) delete out.process;
  else out.process = running.process;
  if (running.process?.wrap !== undefined) out.targets = running.targets;
  if (running.tokenHashKey === undefined) delete out.tokenHashKey;
  else out.tokenHashKey = running.tokenHashKey;
  const drainTimeoutMs = next.lifecycle?.drainTimeoutMs;
  if (running.lifecycle === undefined) delete out.lifecycle;
  else out.lifecycle = { ...running.lifecycle, ...(drainTimeoutMs === undefined ? {} : { drainTimeoutMs }) };
  return out;
}

/** What a reload did (the `POST /reload` answer, also sent from a worker to the `--workers` primary). */
export type ReloadResult =
  | { readonly ok: true; readonly changed: readonly string[]; readonly restartNeeded: readonly string[] }
  | {
      readonly ok: false;
      readonly reason: ReloadReason;
      readonly error: string;
      readonly changed: readonly [];
      readonly restartNeeded: readonly [];
    };

/** A refused reload as a {@link ReloadResult}. */
export function reloadFailed(reason: ReloadReason, error: string): ReloadResult {
  return { ok: false, reason, error, changed: [], restartNeeded: [] };
}

/**
 * The lines a reload leaves: one error line when it was refused, else one warning naming the options that need a
 * restart (if any) and one info line naming what changed. `fields` adds context (`why`, `file`, `workers`).
 */
export function logReload(log: Logger, result: ReloadResult, fields: LogFields): void {
  if (!result.ok) {
    log.error('configuration reload refused; the running configuration stays in use', {
      ...fields,
      reason: result.reason,
      problem: result.error,
    });
    return;
  }
  if (result.restartNeeded.length > 0) {
    log.warn('configuration reload: restart needed for these options; they keep their running values', {
      ...fields,
      restart_needed: result.restartNeeded.join(','),
    });
  }
  log.info('configuration reloaded', {
    ...fields,
    changed: result.changed.length > 0 ? result.changed.join(',') : 'none',
  });
}

/** Whether a value (a worker's IPC answer) is a {@link ReloadResult}. */
export function isReloadResult(value: unknown): value is ReloadResult {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r['ok'] === 'boolean' &&
    Array.isArray(r['changed']) &&
    Array.isArray(r['restartNeeded']) &&
    (r['ok'] === true || typeof r['reason'] === 'string')
  );
}

/**
 * One outcome for a `--workers` reload from each worker's (pure): applied when every worker applied it (the options
 * any of them changed), else the first refusal, with `workers_refused` (and `workers_applied`, if some did) to say
 * where. A worker that did not answer (`undefined`) counts as refused with `RELOAD_UNAVAILABLE`.
 */
export function combineWorkerResults(answers: readonly { readonly worker: number; readonly result: unknown }[]): {
  result: ReloadResult;
  fields: LogFields;
} {
  const results = answers.map((a) => ({
    worker: a.worker,
    result: isReloadResult(a.result)
      ? a.result
      : reloadFailed('RELOAD_UNAVAILABLE', `worker ${a.worker} did not answer`),
  }));
  const refused = results.filter((r) => !r.result.ok);
  const applied = results.filter((r) => r.result.ok);
  const union = (pick: (r: ReloadResult) => readonly string[]): string[] => [
    ...new Set(results.flatMap((r) => pick(r.result))),
  ];
  const first = refused[0];
  if (first === undefined)
    return {
      result: { ok: true, changed: union((r) => r.changed), restartNeeded: union((r) => r.restartNeeded) },
      fields: { workers: results.length },
    };
  return {
    result: first.result,
    fields: {
      workers_refused: refused.map((r) => r.worker).join(','),
      ...(applied.length > 0 ? { workers_applied: applied.map((r) => r.worker).join(',') } : {}),
    },
  };
}
