/**
 * Typed events the stages publish on `node:diagnostics_channel`, for subscribers such as the metrics (issue #13):
 * a counter follows an event, never the wording or fields of a log line. Several servers may live in one process
 * (tests make many), so every event carries the id of the server it happened in, and subscribers filter on it.
 *
 * Stages that only hold a socket (the refusal path, the HTTP stage) find their server through {@link claimSocket},
 * which src/server/ calls for every client socket it accepts (plain) or hands to its HTTPS server (TLS).
 */
import { channel } from 'node:diagnostics_channel';
import type { ReasonCode } from './errors.js';

/**
 * A connection or request refused before a session, with the reason code the log line also gives: an HTTP refusal
 * carries its `status`, a connection dropped without an answer has none.
 */
export interface RefusedEvent {
  readonly server: number;
  readonly reason: ReasonCode;
  readonly status?: number | undefined;
}

/** A WebSocket session ended (after both sides closed): its close reason code, bytes and duration. */
export interface SessionClosedEvent {
  readonly server: number;
  readonly reason: ReasonCode;
  readonly bytesFromClient: number;
  readonly bytesToClient: number;
  readonly durationMs: number;
}

/** The target was dialled: `failure` is the refusal reason, undefined when it connected. */
export interface TargetConnectEvent {
  readonly server: number;
  readonly ms: number;
  readonly failure: ReasonCode | undefined;
}

/** A configuration reload ended: `result` is `ok` or the reason code it was refused with. */
export interface ConfigReloadedEvent {
  readonly server: number;
  readonly result: string;
}

/** The channels, by event. Names are public (any diagnostics_channel subscriber may listen). */
export const CHANNELS = {
  refused: channel('wsproxy:refused'),
  sessionClosed: channel('wsproxy:session-closed'),
  targetConnect: channel('wsproxy:target-connect'),
  configReloaded: channel('wsproxy:config-reloaded'),
} as const;

export interface EventMap {
  refused: RefusedEvent;
  sessionClosed: SessionClosedEvent;
  targetConnect: TargetConnectEvent;
  configReloaded: ConfigReloadedEvent;
}

let lastServer = 0;
/** A process-unique server id, carried by every event of that server. */
export function newServerId(): number {
  return ++lastServer;
}

/** Publishes `event` on its channel (nothing is built or sent when nobody listens). */
export function publish<K extends keyof EventMap>(name: K, event: EventMap[K]): void {
  const ch = CHANNELS[name];
  if (ch.hasSubscribers) ch.publish(event);
}

/**
 * Subscribes `handler` to the events of server `server` only; returns the unsubscribe function. What `handler` throws
 * goes to `onError`: diagnostics_channel would rethrow it as an uncaught exception, ending the process, and the
 * publisher (a connection's stage) must not fail for a subscriber either.
 */
export function subscribe<K extends keyof EventMap>(
  name: K,
  server: number,
  handler: (event: EventMap[K]) => void,
  onError: (err: unknown) => void = () => {},
): () => void {
  const ch = CHANNELS[name];
  const listener = (message: unknown): void => {
    const event = message as EventMap[K];
    if (event.server !== server) return;
    try {
      handler(event);
    } catch (err) {
      onError(err);
    }
  };
  ch.subscribe(listener);
  return () => ch.unsubscribe(listener);
}

// Which server a client socket belongs to (weak: sockets come and go with their connections).
const owners = new WeakMap<object, number>();

/** Marks `socket` as a client socket of server `server`, for events published from the socket alone. */
export function claimSocket(socket: object, server: number): void {
  owners.set(socket, server);
}

/** Publishes a refusal on `socket`'s server; a socket no server claimed publishes nothing. */
export function publishRefusedOn(socket: object | null | undefined, reason: ReasonCode, status?: number): void {
  const server = socket ? owners.get(socket) : undefined;
  if (server !== undefined) publish('refused', { server, reason, status });
}
