/**
 * What the server's own modules (accept, routes, reload, the composition root) share: the parts made once per server
 * (`ServerParts`) and the few values that change over its life (`ServerState`: the runtime snapshot, the phase, the
 * bound listeners). Stages below the server never see these; they get a snapshot and their own arguments.
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnectionContext } from '../context.js';
import type { ReasonCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { HttpServers } from '../http/server.js';
import type { ConnectionGate } from '../listener/listen.js';
import type { ProxyMetrics } from '../admin/metrics.js';
import type { AdminServer } from '../admin/server.js';
import type { MessageBudget } from '../relay/message-budget.js';
import type { Revalidator } from '../policy/revalidate.js';
import type { ResolverHolds, TokenHashKey } from '../targets/lifetime.js';
import type { TlsUpkeep } from '../tls/upkeep.js';
import type { Runtime, RuntimeTools } from './runtime.js';
import type { SessionRegistry } from './sessions.js';
import type { ServerDeps } from './types.js';

/** Made once per server. */
export interface ServerParts {
  readonly deps: ServerDeps;
  readonly log: Logger;
  /** Every event this server publishes carries its id (src/events.ts); its metrics count only those. */
  readonly serverId: number;
  readonly refused: (reason: ReasonCode) => void;
  readonly http: HttpServers;
  readonly gate: ConnectionGate;
  /** Open client sockets, destroyed at the end of `close()`. */
  readonly sockets: Set<Socket>;
  /**
   * Which connection a socket belongs to. Plain sockets are mapped at hand-off; a TLS socket is created inside Node's
   * https server, so its connection is carried to 'secureConnection' by `tlsHandoff` (the TLS wrap is created inside
   * `tlsHandoff.run`, and its callbacks run in that context) and mapped there.
   */
  readonly connOf: WeakMap<Duplex, ConnectionContext>;
  readonly tlsHandoff: AsyncLocalStorage<ConnectionContext>;
  /** The subprotocol chosen for a request, read back by the WebSocketServer's `handleProtocols`. */
  readonly chosenProtocols: WeakMap<IncomingMessage, string>;
  readonly tls: TlsUpkeep;
  readonly sessions: SessionRegistry;
  readonly holds: ResolverHolds;
  readonly tokenHashKey: TokenHashKey;
  /** Unfinished client messages of all sessions share one bound (`maxBufferedTotal`; the limit follows reloads). */
  readonly messageBudget: MessageBudget;
  /** Metrics exist only with an admin listener. */
  readonly metrics: ProxyMetrics | undefined;
  readonly tools: RuntimeTools;
}

/** Where the server is in its life: no new connections once draining or closing. */
export type Phase = 'new' | 'serving' | 'draining' | 'closing';

/** What changes over the server's life. Only the composition root and the reload controller assign these. */
export interface ServerState {
  /** The current snapshot: read once per connection and handshake, replaced whole by a reload. */
  runtime: Runtime;
  phase: Phase;
  netServer: NetServer | undefined;
  admin: AdminServer | undefined;
  /** Token revocation; rebuilt when the token source or `revalidateInterval` changes. */
  revalidator: Revalidator;
  revalidatorInterval: number;
  /** The last connection number given out. */
  lastConnId: number;
}

/** Whether the server no longer takes new connections or upgrades. */
export function isClosing(state: ServerState): boolean {
  return state.phase === 'draining' || state.phase === 'closing';
}
