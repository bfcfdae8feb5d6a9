/**
 * The composition root: wires the stages of docs/architecture.md §1 for one listener (accept → TLS or plain → HTTP
 * routes → upgrade → relay) around one runtime snapshot, and returns the library's `WsProxyServer`. Below this folder
 * nothing reads argv, exits the process or installs signal handlers.
 */
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/types.js';
import type { ReadyReport } from '../admin/server.js';
import { publish } from '../events.js';
import { hostPort } from '../net/address.js';
import type { CloseInfo } from '../relay/relay.js';
import type { SessionInfo } from '../websocket/handshake.js';
import { createUpgradeHandler } from '../websocket/upgrade.js';
import { SingleSession } from '../websocket/single-session.js';
import { closeServer, drainServer, startServing } from './lifecycle.js';
import { makeParts, makeUpstream } from './parts.js';
import { createReloader, makeRevalidator } from './reload.js';
import { attachRoutes } from './routes.js';
import { buildAuth, buildRuntime, tlsInputsOf, webRootOf } from './runtime.js';
import { isClosing, type ServerParts, type ServerState } from './state.js';
import { attachTlsHooks } from './tls-hooks.js';
import type { ServerDeps, ServerStats, WsProxyServer } from './types.js';

export type { ReloadOptions, ServerDeps, ServerStats, WsProxyServer } from './types.js';
export type { SessionSnapshot } from './sessions.js';
/** Run once before listening (the `workers` primary, before forking): the demo certificate the workers share. */
export { prepareSharedFiles } from '../tls/upkeep.js';

/** A session started relaying: tracked, holding its token source while a fleet-wide count keeps its slot there. */
function sessionOpened(parts: ServerParts, state: ServerState, single: boolean, session: SessionInfo): void {
  const r = session.resolver;
  const holdsSlot = r?.sessionCounter !== undefined && (state.runtime.config.policy?.maxSessionsPerToken ?? 0) > 0;
  parts.sessions.add(session, holdsSlot && r ? parts.holds.hold(r) : undefined);
  // `runOnce`: nobody else can have a session; new clients find the port closed.
  if (single) state.netServer?.close();
  parts.deps.onSessionOpen?.(); // last: if the embedder's hook throws, the session is fully tracked and ends with 1011
}

/** A session ended: forgotten, its hold let go, counted, told to the embedder. */
function sessionEnded(parts: ServerParts, session: SessionInfo, info: CloseInfo): void {
  parts.sessions.end(session);
  publish('sessionClosed', {
    server: parts.serverId,
    reason: info.reason,
    bytesFromClient: info.bytesFromClient,
    bytesToClient: info.bytesToClient,
    durationMs: info.durationMs,
  });
  parts.deps.onSessionClosed?.(info);
}

/** What `/readyz` reports. A certificate counts only where one was asked for; a plain-only proxy without one is ready. */
async function readiness(parts: ServerParts, state: ServerState): Promise<ReadyReport> {
  const { tls } = state.runtime.config;
  const certNeeded = tls.certGiven || tls.sslOnly || tls.generateIfMissing;
  const resolver = state.runtime.resolver;
  const health = resolver === undefined ? { ok: false } : ((await resolver.health?.()) ?? { ok: true });
  return {
    listening: state.netServer?.listening === true,
    draining: isClosing(state),
    certificate: !certNeeded || parts.tls.certificate() !== undefined,
    tokenSource: health.ok,
  };
}

/** Builds a server from `config`. Nothing is bound until `listen()`. */
export function createServer(config: Config, deps: ServerDeps = {}): WsProxyServer {
  const parts = makeParts(config, deps);
  // A plugin module (`authPlugin` ./x.js) is imported in listen(); its wrapper exists from the start.
  const startAuth = buildAuth(config.auth, parts.log);
  const loaded = { webRootReal: webRootOf(config), authenticator: startAuth.authenticator, targetTls: undefined };
  const interval = config.policy?.revalidateIntervalMs ?? 0;
  const state: ServerState = {
    runtime: buildRuntime(config, { ...loaded, resolver: undefined }, parts.tools),
    phase: 'new',
    netServer: undefined,
    admin: undefined,
    revalidator: makeRevalidator(parts, () => state, interval),
    revalidatorInterval: interval,
    lastConnId: 0,
  };
  const upstream = makeUpstream(config, () => state, parts.log);
  const singleSession = config.lifecycle?.runOnce === true ? new SingleSession() : undefined;
  const upgrade = createUpgradeHandler({
    holdResolver: (r) => parts.holds.hold(r),
    chosenProtocols: parts.chosenProtocols,
    isShuttingDown: () => isClosing(state),
    onTargetConnect: (ms, failure) => publish('targetConnect', { server: parts.serverId, ms, failure }),
    singleSession,
    messageBudget: parts.messageBudget,
    onSession: (session) => sessionOpened(parts, state, singleSession !== undefined, session),
    onSessionEnd: (session, info) => sessionEnded(parts, session, info),
  });
  attachRoutes(parts, state, { version: deps.version ?? '0.0.0', upstream, upgrade });
  attachTlsHooks(parts, state);
  const server: WsProxyServer = {
    listen: () => startServing(parts, state, server, startAuth.load),
    reload: createReloader(parts, state),
    config: () => state.runtime.config,
    close: () => closeServer(parts, state, upstream),
    drain: (timeoutMs) => drainServer(parts, state, timeoutMs, () => server.close()),
    closeSession: (id) => parts.sessions.close(id),
    ready: () => readiness(parts, state),
    adminAddress: () => state.admin?.where,
    stopAccepting: () => state.netServer?.close(),
    addresses(): AddressInfo[] {
      const a = state.netServer?.address();
      return a && typeof a === 'object' ? [a] : [];
    },
    listening(): string {
      const a = state.netServer?.address();
      if (typeof a === 'string') return `unix:${a}`;
      if (!a) return state.runtime.config.listen.kind === 'inetd' ? 'inetd (fd 0)' : 'not listening';
      return hostPort(a.address, a.port);
    },
    certificate: () => parts.tls.certificate(),
    reloadTls: (why) => parts.tls.reload(tlsInputsOf(state.runtime), why),
    sessions: () => parts.sessions.snapshots(),
    stats: (): ServerStats => ({
      openConnections: parts.gate.open,
      activeSessions: parts.sessions.size,
      refused: { ...parts.gate.refused },
    }),
  };
  return server;
}
