/**
 * Prometheus metrics for one server (prom-client, on a Registry of its own so several servers in one process do not
 * collide). Counters follow the typed events the stages publish (src/events.ts), filtered to this server's id, never
 * log lines; gauges and byte counters are read from the live sessions at scrape time, so nothing is added to the
 * relay's hot path.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { REASONS, type ReasonCode } from '../errors.js';
import {
  subscribe,
  type ConfigReloadedEvent,
  type RefusedEvent,
  type SessionClosedEvent,
  type TargetConnectEvent,
} from '../events.js';
import type { LogFields } from '../log.js';
import type { RelayStats } from '../relay/relay.js';
import type { Resolution, TargetResolver } from '../targets/types.js';
import { flag } from '../config/options/index.js';

/** A live session as the metrics see it. */
export interface MeteredSession {
  readonly scheme: 'ws' | 'wss';
  readonly relay: { stats(): RelayStats };
}

/** What the metrics read from the server at scrape time. */
export interface MetricsSources {
  /** The server's id (src/events.ts): only its events are counted. */
  readonly server: number;
  readonly version: string;
  readonly sessions: () => Iterable<MeteredSession>;
  readonly openConnections: () => number;
  /** Bytes of unfinished client messages held across sessions (`maxBufferedTotal` bounds it). */
  readonly bufferedMessageBytes?: () => number;
  /** Told when counting an event failed (the event is lost to the metrics; the server goes on). */
  readonly onError?: (err: unknown) => void;
}

// Reasons without an HTTP status or close code that are not failures of the handshake (a client that went away, one
// that closed its own session, a recording dropped while its session went on).
const NOT_FAILURES: ReadonlySet<ReasonCode> = new Set<ReasonCode>([
  'CLIENT_LEFT_EARLY',
  'PROXY_HEADER_INCOMPLETE',
  'CLIENT_RESET',
  'CLIENT_TLS_ERROR',
  'CLIENT_LEFT_UPGRADE',
  'UPSTREAM_CLIENT_GONE',
  'CLIENT_CLOSED',
  'RECORDING_DROPPED',
]);

/**
 * Whether a refusal event (or its log line's fields) counts as a handshake failure: an HTTP refusal (`reject()` gives
 * `reason` and `status`) or a connection dropped without an answer (a catalogue code with neither status nor close
 * code, and not a client that merely went away).
 */
export function refusalReason(fields: LogFields): ReasonCode | undefined {
  const reason = fields['reason'];
  if (typeof reason !== 'string' || !Object.hasOwn(REASONS, reason)) return undefined;
  const entry = REASONS[reason as ReasonCode];
  if ('status' in entry) return typeof fields['status'] === 'number' ? (reason as ReasonCode) : undefined;
  if ('closeCode' in entry || NOT_FAILURES.has(reason as ReasonCode)) return undefined;
  return reason as ReasonCode;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DURATION_BUCKETS = [1, 5, 15, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600];

/** Bytes of the sessions that have ended, by direction (live sessions are read at scrape time). */
interface ClosedBytes {
  from_client: number;
  to_client: number;
}

/** The families read from the server at scrape time (nothing is counted on the relay's hot path). */
function registerScrapeFamilies(registers: Registry[], sources: MetricsSources, closedBytes: ClosedBytes): void {
  new Gauge({
    name: 'wsproxy_info',
    help: 'Always 1; the version label says which wsproxy this is.',
    labelNames: ['version'],
    registers,
    collect() {
      this.set({ version: sources.version }, 1);
    },
  });
  new Gauge({
    name: 'wsproxy_connections_open',
    help: 'Client connections currently open (handshaking, serving pages or relaying).',
    registers,
    collect() {
      this.set(sources.openConnections());
    },
  });
  new Gauge({
    name: 'wsproxy_sessions_active',
    help: 'WebSocket sessions currently relaying, by scheme.',
    labelNames: ['scheme'],
    registers,
    collect() {
      const n = { ws: 0, wss: 0 };
      for (const s of sources.sessions()) n[s.scheme]++;
      this.set({ scheme: 'ws' }, n.ws);
      this.set({ scheme: 'wss' }, n.wss);
    },
  });
  new Counter({
    name: 'wsproxy_bytes_total',
    help: 'Payload bytes relayed, by direction (from_client: client to target; to_client: target to client); live sessions included.',
    labelNames: ['direction'],
    registers,
    collect() {
      let from = closedBytes.from_client;
      let to = closedBytes.to_client;
      for (const s of sources.sessions()) {
        const st = s.relay.stats();
        from += st.bytesFromClient;
        to += st.bytesToClient;
      }
      this.reset();
      this.inc({ direction: 'from_client' }, from);
      this.inc({ direction: 'to_client' }, to);
    },
  });
  new Gauge({
    name: 'wsproxy_buffered_message_bytes',
    help: `Bytes of unfinished client messages held across all sessions (bounded by ${flag('maxBufferedTotal')}).`,
    registers,
    collect() {
      this.set(sources.bufferedMessageBytes?.() ?? 0);
    },
  });
}

/** The families counted from the handshake and session events. */
function sessionFamilies(registers: Registry[]) {
  return {
    bufferFull: new Counter({
      name: 'wsproxy_message_buffer_full_total',
      help: `Sessions closed with 1009 because unfinished client messages of all sessions would have passed ${flag('maxBufferedTotal')}.`,
      registers,
    }),
    sessionsTotal: new Counter({
      name: 'wsproxy_sessions_total',
      help: 'WebSocket sessions that have ended, by close reason code.',
      labelNames: ['reason'] as const,
      registers,
    }),
    handshakeFailures: new Counter({
      name: 'wsproxy_handshake_failures_total',
      help: 'Connections and requests refused before a session started, by reason code (HTTP refusals and dropped connections).',
      labelNames: ['reason'] as const,
      registers,
    }),
    tlsFailures: new Counter({
      name: 'wsproxy_tls_handshake_failures_total',
      help: 'TLS handshakes with clients that failed.',
      registers,
    }),
    connectSeconds: new Histogram({
      name: 'wsproxy_target_connect_seconds',
      help: 'Time to connect the target (all resolved addresses), by outcome (ok or the refusal reason code).',
      labelNames: ['outcome'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    durationSeconds: new Histogram({
      name: 'wsproxy_session_duration_seconds',
      help: 'Duration of ended sessions, by close reason code.',
      labelNames: ['reason'] as const,
      buckets: DURATION_BUCKETS,
      registers,
    }),
  };
}

/** The families of token lookups (through `observeResolver`) and configuration reloads. */
function tokenAndReloadFamilies(registers: Registry[]) {
  const families = {
    tokenLookups: new Counter({
      name: 'wsproxy_token_lookups_total',
      help: 'Token lookups in the token source, by plugin and result (found, unknown, error).',
      labelNames: ['plugin', 'result'] as const,
      registers,
    }),
    tokenErrors: new Counter({
      name: 'wsproxy_token_lookup_errors_total',
      help: 'Token lookups that failed because the source could not answer.',
      labelNames: ['plugin'] as const,
      registers,
    }),
    tokenSeconds: new Histogram({
      name: 'wsproxy_token_lookup_seconds',
      help: 'Time of token lookups, by plugin.',
      labelNames: ['plugin'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    reloads: new Counter({
      name: 'wsproxy_config_reloads_total',
      help: 'Configuration reloads (SIGHUP, POST /reload), by result: ok, or the reason code of a refused one.',
      labelNames: ['result'] as const,
      registers,
    }),
    // Prometheus' own prometheus_config_last_reload_successful: alert on 0, whatever happened since.
    lastReloadOk: new Gauge({
      name: 'wsproxy_config_last_reload_successful',
      help: '1 if the last configuration reload was applied (or none was tried), 0 if it was refused.',
      registers,
    }),
  };
  families.lastReloadOk.set(1);
  return families;
}

/** The metric families of one server. Names are listed in the README's Operations chapter. */
export class ProxyMetrics {
  /** The registry `/metrics` serves. */
  readonly registry = new Registry();
  private readonly closedBytes: ClosedBytes = { from_client: 0, to_client: 0 };
  private readonly sessions: ReturnType<typeof sessionFamilies>;
  private readonly tokens: ReturnType<typeof tokenAndReloadFamilies>;
  private readonly unsubscribe: (() => void)[];

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    registerScrapeFamilies(registers, sources, this.closedBytes);
    this.sessions = sessionFamilies(registers);
    this.tokens = tokenAndReloadFamilies(registers);
    const { server, onError } = sources;
    this.unsubscribe = [
      subscribe('refused', server, (e) => this.refused(e), onError),
      subscribe('sessionClosed', server, (e) => this.sessionClosed(e), onError),
      subscribe('targetConnect', server, (e) => this.targetConnect(e), onError),
      subscribe('configReloaded', server, (e) => this.reloaded(e), onError),
    ];
  }

  /** Stops counting (the server has closed). */
  close(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  private reloaded({ result }: ConfigReloadedEvent): void {
    this.tokens.reloads.inc({ result });
    this.tokens.lastReloadOk.set(result === 'ok' ? 1 : 0);
  }

  // Refusals and TLS failures (a failed TLS handshake is one of the refusals).
  private refused(event: RefusedEvent): void {
    const reason = refusalReason({ reason: event.reason, status: event.status });
    if (reason === undefined) return;
    this.sessions.handshakeFailures.inc({ reason });
    if (reason === 'TLS_HANDSHAKE_FAILED') this.sessions.tlsFailures.inc();
  }

  // A session has ended: its bytes move from the live sum to the closed total in the same tick.
  private sessionClosed(info: SessionClosedEvent): void {
    this.closedBytes.from_client += info.bytesFromClient;
    this.closedBytes.to_client += info.bytesToClient;
    this.sessions.sessionsTotal.inc({ reason: info.reason });
    if (info.reason === 'MESSAGE_BUFFER_FULL') this.sessions.bufferFull.inc();
    this.sessions.durationSeconds.observe({ reason: info.reason }, info.durationMs / 1000);
  }

  private targetConnect({ ms, failure }: TargetConnectEvent): void {
    this.sessions.connectSeconds.observe({ outcome: failure ?? 'ok' }, ms / 1000);
  }

  /** Wraps a token resolver so its lookups are counted and timed. Resolvers without tokens are returned as they are. */
  observeResolver(resolver: TargetResolver): TargetResolver {
    if (!resolver.usesToken) return resolver;
    const plugin = resolver.name;
    const metered: TargetResolver = {
      name: resolver.name,
      usesToken: true,
      resolve: async (token, ctx): Promise<Resolution> => {
        const end = this.tokens.tokenSeconds.startTimer({ plugin });
        try {
          const r = await resolver.resolve(token, ctx);
          this.tokens.tokenLookups.inc({ plugin, result: r.kind });
          return r;
        } catch (err) {
          this.tokens.tokenLookups.inc({ plugin, result: 'error' });
          this.tokens.tokenErrors.inc({ plugin });
          throw err;
        } finally {
          end();
        }
      },
      ...(resolver.close ? { close: () => resolver.close?.() ?? Promise.resolve() } : {}),
      ...(resolver.health ? { health: () => resolver.health?.() ?? Promise.resolve({ ok: true }) } : {}),
      // Capabilities pass through unchanged (revocation on change, the fleet-wide session count).
      ...(resolver.watch
        ? { watch: (onChange: (tokens?: readonly string[]) => void) => resolver.watch?.(onChange) ?? (() => {}) }
        : {}),
      ...(resolver.sessionCounter ? { sessionCounter: resolver.sessionCounter } : {}),
    };
    return metered;
  }

  /** The exposition text and its content type. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
