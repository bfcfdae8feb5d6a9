/**
 * The reload controller (issue #7): prepare everything that can fail (certificate, token_hash key, target TLS, web
 * root, auth plugin, token source), then commit it in one synchronous step that swaps the runtime snapshot and
 * adjusts the long-lived parts (TLS context, caps, timeouts, upkeep, revalidator). Reloads run one after another.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Config, TargetSource } from '../config/types.js';
import { ConfigError, PluginModuleError, ReloadError, errnoCode, firstLine } from '../errors.js';
import { publish } from '../events.js';
import type { LogFields, Logger } from '../log.js';
import { createRevalidator, type Revalidator } from '../policy/revalidate.js';
import { applicableConfig, diffConfig, logReload, reloadFailed, type ReloadResult } from '../reload.js';
import { buildResolver, untilHealthy } from '../targets/lifetime.js';
import type { TargetResolver } from '../targets/types.js';
import { loadTargetTls } from '../tls/target.js';
import { certificateFile, type PreparedCertificate } from '../tls/upkeep.js';
import {
  budgetLimit,
  buildAuth,
  buildRuntime,
  tlsInputsOf,
  wantsClientCert,
  webRootOf,
  type LoadedParts,
  type Runtime,
} from './runtime.js';
import { isClosing, type ServerParts, type ServerState } from './state.js';
import type { ReloadOptions } from './types.js';
import { flag } from '../config/options/index.js';

/** What a reload built before the swap: applied together, or (if anything failed) thrown away together. */
interface Prepared {
  readonly runtime: Runtime;
  readonly cert: PreparedCertificate;
  /** The token source the new snapshot replaces, or undefined when the running one stays. */
  readonly replaced: TargetResolver | undefined;
}

/** Builds the token source for `targets`, counted by the metrics when there are any. */
export async function resolverFor(parts: ServerParts, targets: TargetSource): Promise<TargetResolver> {
  const built = await buildResolver(targets, parts.log);
  return parts.metrics ? parts.metrics.observeResolver(built) : built;
}

/** Token revocation (websockify#229): re-resolves live sessions when the source says it changed, or periodically. */
export function makeRevalidator(parts: ServerParts, state: () => ServerState, intervalMs: number): Revalidator {
  return createRevalidator({
    sessions: () => parts.sessions.values(),
    resolver: () => state().runtime.resolver,
    intervalMs,
    log: parts.log,
  });
}

/** Runs `step`, turning what it throws into a ReloadError with `code`, the first line and `flag`. */
async function step<T>(code: ReloadError['code'], flag: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new ReloadError(code, firstLine(err), { flag });
  }
}

/**
 * The token source for `next`. The running one stays when nothing about it changed and rebuilding it would cost: a
 * fixed or demo target, or a source holding a fleet-wide session count (TokenRedis: new connections, and its count
 * would restart). Token files and APIs are rebuilt, so their files are read again and their caches start empty.
 */
async function nextResolver(parts: ServerParts, running: Runtime, next: Config): Promise<TargetResolver | undefined> {
  const current = running.resolver;
  const keep =
    current !== undefined &&
    isDeepStrictEqual(running.config.targets, next.targets) &&
    (next.targets.kind !== 'token' || current.sessionCounter !== undefined);
  if (keep) return undefined;
  let built: TargetResolver;
  try {
    built = await resolverFor(parts, next.targets);
  } catch (err) {
    const plugin = err instanceof PluginModuleError;
    throw new ReloadError(
      plugin ? 'PLUGIN_UNUSABLE' : 'TOKEN_SOURCE_UNUSABLE',
      plugin ? firstLine(err) : `${flag('tokenSource')}: ${firstLine(err)}`,
      { flag: flag('tokenSource') },
    );
  }
  try {
    await untilHealthy(built, Math.min(next.limits.connectTimeoutMs, 5_000));
  } catch (err) {
    await built.close?.();
    throw err;
  }
  return built;
}

/** Loads what a reload to `next` needs, in the order a failure is reported; throws a ReloadError. */
async function prepare(parts: ServerParts, running: Runtime, next: Config): Promise<Prepared> {
  const cert = await parts.tls.prepare(next, certificateFile(next));
  await step('TOKEN_SOURCE_UNUSABLE', flag('tokenPlugin'), () => parts.tokenHashKey.install(next));
  const wanted = next.targetTls;
  const targetTls = wanted
    ? await step('TARGET_TLS_UNUSABLE', flag('sslTarget'), () => loadTargetTls(wanted))
    : undefined;
  let webRootReal: string | undefined;
  try {
    webRootReal = webRootOf(next);
  } catch (err) {
    const why = errnoCode(err) ?? firstLine(err);
    throw new ReloadError('CONFIG_INVALID', `${flag('web')}: '${next.webRoot ?? ''}' cannot be used (${why})`, {
      flag: flag('web'),
    });
  }
  let authenticator = running.authenticator;
  if (!isDeepStrictEqual(running.config.auth, next.auth)) {
    authenticator = await step('PLUGIN_UNUSABLE', flag('authPlugin'), async () => {
      const auth = buildAuth(next.auth, parts.log);
      await auth.load?.();
      return auth.authenticator;
    });
  }
  const built = await nextResolver(parts, running, next);
  const loaded: LoadedParts = { webRootReal, authenticator, targetTls, resolver: built ?? running.resolver };
  const runtime = buildRuntime(next, loaded, parts.tools, running);
  return { runtime, cert, replaced: built === undefined ? undefined : running.resolver };
}

/** Puts a prepared reload in effect. Synchronous: no connection sees half of it. */
function commit(parts: ServerParts, state: ServerState, p: Prepared): void {
  const next = p.runtime.config;
  const { http } = parts;
  state.runtime = p.runtime;
  parts.messageBudget.limit = budgetLimit(next);
  parts.tls.install(p.cert, p.runtime.tlsProfile);
  // Read by Node for each new TLS socket (tls.Server#requestCert); there is no setter in the API.
  (http.secure as unknown as { requestCert: boolean }).requestCert = wantsClientCert(next);
  parts.gate.setLimits(next.limits.maxConnections, next.limits.maxConnectionsPerIp);
  for (const server of [http.plain, http.secure]) {
    server.headersTimeout = next.limits.handshakeTimeoutMs;
    server.requestTimeout = Math.max(30_000, next.limits.handshakeTimeoutMs);
  }
  parts.tls.start(next, tlsInputsOf(p.runtime));
  state.admin?.setToken(next.admin?.token);
  const intervalMs = next.policy?.revalidateIntervalMs ?? 0;
  // A new source to watch, or a new `revalidateInterval`: the revalidator starts over (the old one unwatches).
  if (p.replaced !== undefined || intervalMs !== state.revalidatorInterval) {
    state.revalidator.stop();
    state.revalidatorInterval = intervalMs;
    state.revalidator = makeRevalidator(parts, () => state, intervalMs);
    state.revalidator.start();
  }
  if (p.replaced !== undefined) {
    parts.holds.retire(p.replaced);
    // Sessions admitted by the old source are checked against the new one at once, as a revocation would be.
    void state.revalidator.run();
  }
}

/** One reload from start to its result; never throws. */
async function reloadNow(
  parts: ServerParts,
  state: ServerState,
  why: string,
  options: ReloadOptions,
): Promise<ReloadResult> {
  const { deps, log } = parts;
  let fields: LogFields = { why, ...(deps.configFile === undefined ? {} : { file: deps.configFile }) };
  const debug = (msg: string, f?: LogFields): void => log.debug(msg, f);
  const out: Logger = options.quiet ? { ...log, info: debug, warn: debug, error: debug } : log;
  let result: ReloadResult;
  if (state.phase !== 'serving') {
    result = reloadFailed(
      'RELOAD_UNAVAILABLE',
      isClosing(state) ? 'the server is shutting down' : 'the server is still starting',
    );
  } else {
    try {
      const running = state.runtime;
      const requested = options.next ?? deps.readConfig?.() ?? running.config;
      const next = applicableConfig(running.config, requested);
      const before = parts.tls.certificate()?.fingerprint256;
      commit(parts, state, await prepare(parts, running, next));
      const { changed, restartNeeded } = diffConfig(running.config, requested);
      result = { ok: true, changed, restartNeeded };
      // A renewed certificate changes no option, but it is what an operator reloads for after certbot ran.
      const cert = parts.tls.certificate();
      if (cert !== undefined && cert.fingerprint256 !== before)
        fields = { ...fields, certificate_sha256: cert.fingerprint256 };
      deps.onReload?.(next);
    } catch (err) {
      if (err instanceof ReloadError) result = reloadFailed(err.code, err.message);
      else if (err instanceof ConfigError) result = reloadFailed('CONFIG_INVALID', err.message);
      else result = reloadFailed('CONFIG_INVALID', firstLine(err));
    }
  }
  publish('configReloaded', { server: parts.serverId, result: result.ok ? 'ok' : result.reason });
  logReload(out, result, fields);
  return result;
}

/** The server's `reload()`: each reload waits for the one before. */
export function createReloader(
  parts: ServerParts,
  state: ServerState,
): (why?: string, options?: ReloadOptions) => Promise<ReloadResult> {
  let reloading: Promise<unknown> = Promise.resolve();
  return (why = 'reload', options = {}) => {
    const run = reloading.then(() => reloadNow(parts, state, why, options));
    reloading = run;
    return run;
  };
}
