/** Makes the parts one server keeps for its whole life (see state.ts): listeners, caps, TLS, registries, metrics. */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Config } from '../config/types.js';
import type { ConnectionContext } from '../context.js';
import { describeThrown } from '../boundary.js';
import type { ReasonCode } from '../errors.js';
import { newServerId, publish } from '../events.js';
import { createHttpServers } from '../http/server.js';
import { createHttpUpstream, type HttpUpstream } from '../http/upstream.js';
import { ConnectionGate } from '../listener/listen.js';
import { silentLogger, type Logger } from '../log.js';
import { ProxyMetrics } from '../admin/metrics.js';
import { MessageBudget } from '../relay/message-budget.js';
import { ResolverHolds, TokenHashKey } from '../targets/lifetime.js';
import { profileOptions } from '../tls/context.js';
import { TlsUpkeep } from '../tls/upkeep.js';
import { wssMaker } from './routes.js';
import { budgetLimit, wantsClientCert } from './runtime.js';
import { SessionRegistry } from './sessions.js';
import type { ServerParts, ServerState } from './state.js';
import type { ServerDeps } from './types.js';

/** Prometheus metrics of one server, counting its own events. */
function makeMetrics(
  deps: ServerDeps,
  log: Logger,
  p: Pick<ServerParts, 'serverId' | 'sessions' | 'gate' | 'messageBudget'>,
): ProxyMetrics {
  return new ProxyMetrics({
    server: p.serverId,
    version: deps.version ?? '0.0.0',
    sessions: () => p.sessions.values(),
    openConnections: () => p.gate.open,
    bufferedMessageBytes: () => p.messageBudget.used,
    onError: (err) =>
      log.error('metrics could not count an event', {
        reason: 'INTERNAL_ERROR',
        where: 'metrics',
        error: describeThrown(err),
      }),
  });
}

/** The parts of a server for `config`. Nothing is bound and no file is read. */
export function makeParts(config: Config, deps: ServerDeps): ServerParts {
  const log = deps.logger ?? silentLogger;
  const serverId = newServerId();
  const sessions = new SessionRegistry();
  const gate = new ConnectionGate(config.limits.maxConnections, config.limits.maxConnectionsPerIp);
  const messageBudget = new MessageBudget(budgetLimit(config));
  // Client certificates are asked for, but Node never rejects them itself (rejectUnauthorized false): the
  // secureConnection hook (tls-hooks.ts) refuses required-mode failures with a log line that says why.
  const http = createHttpServers(config.limits, {
    ...profileOptions(config.tls.options),
    requestCert: wantsClientCert(config),
    rejectUnauthorized: false,
  });
  const tls = new TlsUpkeep(http.secure, log);
  const maps = {
    connOf: new WeakMap<Duplex, ConnectionContext>(),
    chosenProtocols: new WeakMap<IncomingMessage, string>(),
    log,
  };
  return {
    ...maps,
    deps,
    serverId,
    refused: (reason: ReasonCode) => publish('refused', { server: serverId, reason }),
    http,
    gate,
    sockets: new Set<Socket>(),
    tlsHandoff: new AsyncLocalStorage<ConnectionContext>(),
    tls,
    sessions,
    holds: new ResolverHolds(log),
    tokenHashKey: new TokenHashKey(log),
    messageBudget,
    // Metrics exist only with an admin listener.
    metrics: config.admin ? makeMetrics(deps, log, { serverId, sessions, gate, messageBudget }) : undefined,
    tools: {
      log,
      trafficSink: deps.trafficSink,
      certNames: () => tls.certificate()?.names ?? [],
      makeWss: wssMaker(maps),
    },
  };
}

/** `httpUpstream`, when given: asked per request what a reload may change. */
export function makeUpstream(config: Config, state: () => ServerState, log: Logger): HttpUpstream | undefined {
  if (config.httpUpstream === undefined) return undefined;
  return createHttpUpstream(
    {
      url: config.httpUpstream,
      connectTimeoutMs: config.limits.connectTimeoutMs,
      responseTimeoutMs: 120_000,
      // A BasicHTTPAuth credential checked by `webAuth` is wsproxy's; the application must not receive it. Asked
      // per request: a reload may turn `webAuth` on while the upstream (a restart option) stays.
      stripAuthorization: () => {
        const auth = state().runtime.config.auth;
        return auth?.webAuth === true && auth.plugin === 'BasicHTTPAuth';
      },
      underscoreHeaders: () => state().runtime.config.upstreamUnderscoreHeaders === true,
    },
    log,
  );
}
