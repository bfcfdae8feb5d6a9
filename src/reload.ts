/**
 * What a configuration reload (SIGHUP, `POST /reload`; issue #7 "Operations") may change, decided on values: which
 * options differ between the running and the new `Config`, which of them apply live and which need a restart (they
 * are bound into the listening socket, the process or the worker pool), and the `Config` to apply — the new one with
 * the restart-only parts kept as they run. Also the one set of log lines a reload leaves, shared by the server and
 * the workers primary so both read alike. Pure apart from the logging; `server/reload.ts` and `process/` act on it.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Config } from './config/types.js';
import type { ReloadReason } from './errors.js';
import type { LogFields, Logger } from './log.js';
import { OPTION_NAMES, optionName, optionSpec, reportsOf, type ReportKey } from './config/options/index.js';

/** One option as a reload sees it: the name operators know, whether it applies live, and how to read it. */
export interface ReloadField {
  /** The report name (the name of the option it reads, or a group name such as `listen`); what the reload lines and `POST /reload` report. */
  readonly name: string;
  /** Applies to new connections without a restart (the option table's reload class). */
  readonly live: boolean;
  /** The command-line options that feed it (from the option table; a test checks every option is covered). */
  readonly flags: readonly string[];
  readonly read: (c: Config) => unknown;
}

const tokenSource = (c: Config) =>
  c.process?.wrap === undefined && c.targets.kind === 'token' ? c.targets : undefined;
const tlsOptions = (c: Config) => c.tls.options;

/**
 * How to read each report name from a `Config`, keyed by its camelCase form, in the order reports list them. A value
 * compared here never leaves this module: reports carry names only, so secrets cannot reach a log line through a reload.
 */
const READERS: Record<ReportKey, (c: Config) => unknown> = {
  // Bound at start: the listening socket, the process model, where logs go.
  listen: (c) => c.listen,
  workers: (c) => c.workers ?? 1,
  adminListen: (c) => c.admin?.listen,
  httpUpstream: (c) => c.httpUpstream,
  daemon: (c) => c.process?.daemon ?? false,
  pidFile: (c) => c.process?.pidFile,
  syslog: (c) => c.process?.syslog,
  logFile: (c) => c.log.file,
  wrapMode: (c) => c.process?.wrap,
  // The wrapped program was told where to listen when it started.
  wrapTarget: (c) => (c.process?.wrap === undefined ? undefined : c.targets),
  runOnce: (c) => c.lifecycle?.runOnce ?? false,
  timeout: (c) => c.lifecycle?.timeoutMs ?? 0,
  idleTimeout: (c) => c.lifecycle?.idleTimeoutMs ?? 0,
  // Where sessions go.
  target: (c) => (c.process?.wrap === undefined && c.targets.kind === 'fixed' ? c.targets.target : undefined),
  demo: (c) => c.targets.kind === 'demo',
  tokenPlugin: (c) => tokenSource(c)?.plugin,
  tokenSource: (c) => tokenSource(c)?.source,
  hostToken: (c) => tokenSource(c)?.from === 'host',
  tokenFromPath: (c) => tokenSource(c)?.from === 'path',
  tokenJwtAudience: (c) => tokenSource(c)?.jwtAudience,
  tokenJwtIssuer: (c) => tokenSource(c)?.jwtIssuer,
  tokenJwtAllowNoExp: (c) => tokenSource(c)?.jwtAllowNoExp ?? false,
  // Loaded once per process: hashes in logs, recordings and Redis keys must not change under running sessions.
  tokenHashKeyFile: (c) => c.tokenHashKey,
  // TLS towards clients: the certificate reload path.
  cert: (c) => [c.tls.certFile, c.tls.certGiven],
  key: (c) => c.tls.keyFile,
  keyPassword: (c) => c.tls.keyPassword,
  sslOnly: (c) => c.tls.sslOnly,
  stateDir: (c) => c.tls.stateDir,
  verifyClient: (c) => c.tls.clientCert?.mode ?? 'off',
  cafile: (c) => c.tls.clientCert?.caFile,
  crl: (c) => c.tls.clientCert?.crlFile,
  verifyDepth: (c) => c.tls.clientCert?.verifyDepth,
  allowPlainWithVerifyClient: (c) => c.tls.clientCert?.allowPlain ?? false,
  clientCertAllow: (c) => c.tls.clientCert?.allow ?? [],
  tlsProfile: (c) => tlsOptions(c)?.profile,
  sslVersion: (c) => tlsOptions(c)?.minVersion,
  sslCiphers: (c) => tlsOptions(c)?.ciphers,
  tls13Ciphers: (c) => tlsOptions(c)?.tls13Ciphers,
  ecdhCurve: (c) => tlsOptions(c)?.ecdhCurve,
  dhparam: (c) => tlsOptions(c)?.dhparamFile,
  chain: (c) => tlsOptions(c)?.chainFile,
  hsts: (c) => tlsOptions(c)?.hstsSeconds ?? 0,
  sessionTickets: (c) => tlsOptions(c)?.sessionTickets ?? true,
  sessionTicketRotate: (c) => tlsOptions(c)?.ticketRotateMs,
  watchCerts: (c) => tlsOptions(c)?.watchFiles ?? true,
  // Pages, handshakes and sessions.
  web: (c) => c.webRoot,
  webCsp: (c) => c.webCsp,
  allowOrigin: (c) => c.allowOrigins,
  handshakeTimeout: (c) => c.limits.handshakeTimeoutMs,
  connectTimeout: (c) => c.limits.connectTimeoutMs,
  maxMessageSize: (c) => c.limits.maxMessageBytes,
  maxBufferedTotal: (c) => c.limits.maxBufferedTotal,
  maxConnections: (c) => c.limits.maxConnections,
  maxConnectionsPerIp: (c) => c.limits.maxConnectionsPerIp,
  highWaterMark: (c) => c.limits.highWaterMark,
  shutdownTimeout: (c) => c.limits.shutdownTimeoutMs,
  heartbeat: (c) => c.limits.heartbeatMs,
  drainTimeout: (c) => c.lifecycle?.drainTimeoutMs,
  textFrames: (c) => c.textFrames ?? 'reject',
  traffic: (c) => c.traffic ?? false,
  logLevel: (c) => c.log.level,
  logFormat: (c) => c.log.format,
  authPlugin: (c) => c.auth?.plugin,
  authSource: (c) => c.auth?.source,
  webAuth: (c) => c.auth?.webAuth ?? false,
  upstreamUnderscoreHeaders: (c) => c.upstreamUnderscoreHeaders ?? false,
  record: (c) => c.recordPrefix,
  // Real client addresses and policy.
  proxyProtocolIn: (c) => c.clientAddress?.proxyProtocolIn ?? false,
  trustedProxy: (c) => c.clientAddress?.trustedProxies.map((r) => r.text) ?? [],
  trustForwarded: (c) => c.clientAddress?.trustForwarded ?? false,
  proxyProtocolOut: (c) => c.clientAddress?.proxyProtocolOut,
  maxSessionsPerToken: (c) => c.policy?.maxSessionsPerToken ?? 0,
  rateLimit: (c) => c.policy?.rateLimit,
  authFailureLimit: (c) => c.policy?.authFailureLimit,
  allowTarget: (c) => c.policy?.allowTargets.map((r) => r.text) ?? [],
  allowedHost: (c) => c.policy?.allowedHosts ?? [],
  revalidateInterval: (c) => c.policy?.revalidateIntervalMs ?? 0,
  // TLS towards the target.
  sslTarget: (c) => c.targetTls !== undefined,
  targetCa: (c) => c.targetTls?.caFile,
  targetServername: (c) => c.targetTls?.servername,
  targetVerify: (c) => c.targetTls?.verify,
  targetCert: (c) => c.targetTls?.certFile,
  targetKey: (c) => c.targetTls?.keyFile,
  adminTokenFile: (c) => c.admin?.token,
};

/** A report name's field: its reader here, its class and options from the option table. */
function reloadField(key: string, read: (c: Config) => unknown): ReloadField {
  const name = optionName(key);
  const flags = OPTION_NAMES.filter((option) => reportsOf(option).includes(name));
  // The options feeding one name share its class (a test of the table checks it).
  return { name, live: flags.some((option) => optionSpec(option)?.reload === 'live'), flags, read };
}

/** Every reloadable option, by report name, in the order reports list them. */
export const RELOAD_FIELDS: readonly ReloadField[] = Object.entries(READERS).map(([key, read]) =>
  reloadField(key, read),
);

/**
 * Options that are not part of a serving configuration (help, `wsproxy cert …`, the config file's own name) or are
 * accepted and ignored for websockify compatibility.
 */
export const NOT_RELOADED_OPTIONS: readonly string[] = OPTION_NAMES.filter((o) => optionSpec(o)?.reload === 'none');

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
 * admin listener's address stays; its bearer token may change. Lifetime rules stay, except the drain timeout.
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

/** What a reload did (the `POST /reload` answer, also sent from a worker to the workers primary). */
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
 * One outcome for a reload under workers from each worker's (pure): applied when every worker applied it (the options
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
