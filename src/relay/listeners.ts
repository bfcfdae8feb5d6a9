/**
 * The listeners every relay shares, instead of one closure per listener per relay (~56 B each; issue #6): `this` is
 * the target socket or the WebSocket, which carries its relay. Each runs its handler inside the relay's error
 * boundary, so what a handler throws ends that session, not the process.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** What the shared listeners call on a relay (implemented by `Relay`). */
export interface RelayEvents {
  targetOnDrain(): void;
  targetOnEnd(): void;
  targetOnError(err: Error): void;
  targetOnClose(): void;
  wsOnError(err: Error): void;
  wsOnClose(code: number): void;
  wsOnPong(): void;
  beat(): void;
  /** The session's error boundary. */
  fail(err: unknown): void;
}

const kRelay = Symbol('wsproxy.relay');
interface RelayCarrier {
  [kRelay]?: RelayEvents;
}
function relayOf(emitter: object): RelayEvents | undefined {
  return (emitter as RelayCarrier)[kRelay];
}

/** Runs one event handler of `relay` inside its error boundary: what it throws ends the session, not the process. */
function inRelay<A>(relay: RelayEvents | undefined, handler: (relay: RelayEvents, arg: A) => void, arg: A): void {
  if (relay === undefined) return;
  try {
    handler(relay, arg);
  } catch (err) {
    relay.fail(err);
  }
}

// The handlers the shared listeners run are made once, here.
const onTargetDrain = (r: RelayEvents): void => r.targetOnDrain();
const onTargetEnd = (r: RelayEvents): void => r.targetOnEnd();
const onTargetError = (r: RelayEvents, err: Error): void => r.targetOnError(err);
const onTargetClose = (r: RelayEvents): void => r.targetOnClose();
const onWsError = (r: RelayEvents, err: Error): void => r.wsOnError(err);
const onWsClose = (r: RelayEvents, code: number): void => r.wsOnClose(code);
const onWsPong = (r: RelayEvents): void => r.wsOnPong();
const onHeartbeat = (r: RelayEvents): void => r.beat();
function relayTargetOnDrain(this: object): void {
  inRelay(relayOf(this), onTargetDrain, undefined);
}
function relayTargetOnEnd(this: object): void {
  inRelay(relayOf(this), onTargetEnd, undefined);
}
function relayTargetOnError(this: object, err: Error): void {
  inRelay(relayOf(this), onTargetError, err);
}
function relayTargetOnClose(this: object): void {
  inRelay(relayOf(this), onTargetClose, undefined);
}
function relayWsOnError(this: object, err: Error): void {
  inRelay(relayOf(this), onWsError, err);
}
function relayWsOnClose(this: object, code: number): void {
  inRelay(relayOf(this), onWsClose, code);
}
function relayWsOnPong(this: object): void {
  inRelay(relayOf(this), onWsPong, undefined);
}

/**
 * Marks both sides as carrying `relay` and adds the shared end-of-life, backpressure and (with a heartbeat) pong
 * listeners. The data listeners are the relay's own.
 */
export function attachSharedListeners(relay: RelayEvents, ws: WebSocket, target: Socket, heartbeat: boolean): void {
  (target as RelayCarrier)[kRelay] = relay;
  (ws as RelayCarrier)[kRelay] = relay;
  if (heartbeat) ws.on('pong', relayWsOnPong);
  target.on('end', relayTargetOnEnd);
  target.on('error', relayTargetOnError);
  target.on('close', relayTargetOnClose);
  target.on('drain', relayTargetOnDrain);
  ws.on('error', relayWsOnError);
  ws.on('close', relayWsOnClose);
}

/**
 * Starts the heartbeat of `relay`: a static function and the relay as its argument, so no heartbeat closure on every
 * relay (issue #6). The timer does not keep the process alive.
 */
export function startHeartbeat(relay: RelayEvents, intervalMs: number): NodeJS.Timeout {
  const timer = setInterval(heartbeatTick, intervalMs, relay);
  timer.unref();
  return timer;
}
function heartbeatTick(relay: RelayEvents): void {
  inRelay(relay, onHeartbeat, undefined);
}
