/**
 * A server's life after construction: `listen()` loads what serving needs and binds, `close()` stops and cuts,
 * `drain()` lets sessions finish first. Failures at start are one-line SetupErrors, as process/ reports them.
 */
import { AdminListenError, PluginModuleError, SetupError, firstLine } from '../errors.js';
import { guardAsync, logInternalError } from '../boundary.js';
import { listenOn } from '../listener/listen.js';
import { startAdmin } from '../admin/server.js';
import type { HttpUpstream } from '../http/upstream.js';
import type { ReloadResult } from '../reload.js';
import { loadTargetTls } from '../tls/target.js';
import { prepareSharedFiles } from '../tls/upkeep.js';
import { acceptConnection } from './accept.js';
import { resolverFor } from './reload.js';
import { tlsInputsOf } from './runtime.js';
import { isClosing, type ServerParts, type ServerState } from './state.js';
import type { WsProxyServer } from './types.js';
import { flag } from '../config/options/index.js';

/** Warnings about the TLS settings, said once at start. */
function warnTls(parts: ServerParts, state: ServerState): void {
  const tls = state.runtime.config.tls;
  if (tls.options?.minVersion === 'TLSv1.1') {
    parts.log.warn(
      `${flag('sslVersion')} tlsv1_1 allows TLS 1.1, which browsers dropped in 2020; TLS 1.1 also needs CBC suites in ${flag('sslCiphers')}`,
    );
  }
  if (tls.clientCert !== undefined && tls.clientCert.caFile === undefined) {
    parts.log.warn(
      `client certificates are checked against the system CAs (websockify default); give ${flag('cafile')} to trust only your CA`,
    );
  }
}

/** Loads what the start snapshot still lacks: target TLS, the token_hash key, the auth plugin, the token source. */
async function loadServingParts(parts: ServerParts, state: ServerState, loadAuth?: () => Promise<void>): Promise<void> {
  const config = state.runtime.config;
  if (config.targetTls) {
    state.runtime = { ...state.runtime, targetTls: await loadTargetTls(config.targetTls) };
    if (!state.runtime.targetTls?.verify)
      parts.log.warn(
        `${flag('targetVerify')} none: the target certificate is not checked; anyone on the path to the target can read and change the sessions`,
      );
  }
  try {
    await parts.tokenHashKey.install(config);
  } catch (err) {
    throw new SetupError('TOKEN_SOURCE_UNUSABLE', (err as Error).message, { cause: err });
  }
  try {
    await loadAuth?.();
  } catch (err) {
    throw new SetupError('PLUGIN_UNUSABLE', (err as Error).message.split('\n')[0] ?? `${flag('authPlugin')}: unusable`);
  }
  try {
    state.runtime = { ...state.runtime, resolver: await resolverFor(parts, config.targets) };
  } catch (err) {
    // A token source that cannot be used at start is a configuration problem, not a listen failure.
    const first = firstLine(err);
    throw err instanceof PluginModuleError
      ? new SetupError('PLUGIN_UNUSABLE', first)
      : new SetupError('TOKEN_SOURCE_UNUSABLE', `${flag('tokenSource')}: ${first}`);
  }
}

/** Binds the listener; a bind error closes the token source and is thrown as it is. */
async function bind(parts: ServerParts, state: ServerState): Promise<void> {
  try {
    state.netServer = await listenOn(
      state.runtime.config.listen,
      guardAsync(
        (socket) => acceptConnection(parts, state, socket),
        (err, socket) => {
          logInternalError(err, { log: parts.connOf.get(socket)?.log ?? parts.log, where: 'connection' });
          socket.destroy();
        },
      ),
    );
  } catch (err) {
    await state.runtime.resolver?.close?.();
    throw err;
  }
  state.netServer.on('error', (err) => parts.log.error('listener error', { error: err.message }));
}

/** `listen()`: everything that can fail first, then bind, then the admin listener. */
export async function startServing(
  parts: ServerParts,
  state: ServerState,
  server: WsProxyServer,
  loadAuth?: () => Promise<void>,
): Promise<void> {
  const { log } = parts;
  const config = state.runtime.config;
  // Made before binding (TLS must work from the first client) but announced after, so a bind error stays one line.
  const made = await prepareSharedFiles(config);
  await parts.tls.load(tlsInputsOf(state.runtime));
  warnTls(parts, state);
  parts.tls.start(config, tlsInputsOf(state.runtime));
  await loadServingParts(parts, state, loadAuth);
  await bind(parts, state);
  state.revalidator.start();
  if (config.admin && parts.metrics) {
    try {
      state.admin = await startAdmin(config.admin, {
        metrics: parts.metrics,
        log,
        sessions: () => parts.sessions.rows(),
        closeSession: (id) => parts.sessions.close(id),
        ready: () => server.ready(),
        reload: (): Promise<ReloadResult> => server.reload('POST /reload'),
      });
    } catch (err) {
      await server.close();
      // process/listening.ts words this like a listen failure, naming the admin address.
      throw new AdminListenError(err);
    }
  }
  if (state.phase === 'new') state.phase = 'serving';
  if (made.created)
    log.info(`made a self-signed certificate (no ${flag('cert')} given and no self.pem here)`, {
      file: state.runtime.certFile,
    });
  const problem = parts.tls.problem();
  if (problem) log.warn('TLS disabled until the certificate can be loaded', { problem: problem.message });
}

/** `close()`: stop accepting, 1001 to every session, wait up to the shutdown timeout, cut the rest, close all. */
export async function closeServer(
  parts: ServerParts,
  state: ServerState,
  upstream: HttpUpstream | undefined,
): Promise<void> {
  if (state.phase === 'closing') return;
  state.phase = 'closing';
  const { http, metrics } = parts;
  state.revalidator.stop();
  parts.tls.stop();
  const netServer = state.netServer;
  const stopped = new Promise<void>((resolve) => {
    if (!netServer?.listening) resolve();
    else netServer.close(() => resolve());
  });
  http.plain.closeIdleConnections();
  http.secure.closeIdleConnections();
  await parts.sessions.shutDown(state.runtime.config.limits.shutdownTimeoutMs);
  for (const socket of parts.sockets) socket.destroy();
  http.plain.closeAllConnections();
  http.secure.closeAllConnections();
  upstream?.close();
  // Replaced sources still held by a session are closed here too (their sessions are gone).
  parts.holds.closeRetired();
  await state.runtime.resolver?.close?.();
  await stopped;
  await state.admin?.close();
  metrics?.close(); // last: sessions ended above are still counted
}

/** `drain(timeoutMs)`: no new connections (the admin listener stays for /readyz), sessions may finish, then close. */
export async function drainServer(
  parts: ServerParts,
  state: ServerState,
  timeoutMs: number,
  close: () => Promise<void>,
): Promise<void> {
  if (isClosing(state)) return;
  state.phase = 'draining';
  state.netServer?.close();
  parts.http.plain.closeIdleConnections();
  parts.http.secure.closeIdleConnections();
  if (parts.sessions.size > 0 && timeoutMs > 0) {
    parts.log.info('draining: no new connections; live sessions may go on', {
      sessions: parts.sessions.size,
      drain_timeout_s: timeoutMs / 1000,
    });
    await parts.sessions.settle(timeoutMs);
  }
  await close();
}
