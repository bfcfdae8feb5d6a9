/**
 * Accounts what ws's Receiver holds for a session's unfinished client message in the shared {@link MessageBudget}, and
 * ends the session the way ws ends one over `maxPayload` when the total would pass the budget.
 *
 * This reads ws internals (ws 8: `WebSocket#_socket`, `_receiver`, and the Receiver's `_bufferedBytes`,
 * `_messageLength`, `_buffers`, `_fragments`, `createError`), kept to this one module; test/unit/relay/message-budget.test.ts
 * checks them against the installed ws. What the Receiver holds: bytes of a frame whose payload has not all arrived
 * (`_bufferedBytes`) plus the fragments of a message without its FIN frame (`_messageLength`, no compression here).
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { BudgetShare, MessageBudget } from '../relay/message-budget.js';
import { flag } from '../config/options/index.js';

/** The error code a session over the budget fails with (relay.ts maps it to MESSAGE_BUFFER_FULL). */
export const BUFFER_FULL_ERROR = 'WSPROXY_MESSAGE_BUFFER_FULL';

interface Receiver {
  _bufferedBytes: number;
  _messageLength: number;
  _buffers: Buffer[];
  _fragments: Buffer[];
  createError(kind: ErrorConstructor, message: string, prefix: boolean, statusCode: number, code: string): Error;
  destroy(err: Error): void;
}
interface WsInternals {
  _socket: (Duplex & Carrier) | null;
  _receiver: Receiver | null;
}

const kWatch = Symbol('wsproxy.receiverBudget');
interface Watch {
  readonly ws: WebSocket;
  readonly budget: MessageBudget;
  readonly share: BudgetShare;
}
type Carrier = { [kWatch]?: Watch };

/** Bytes ws's Receiver holds for this WebSocket's unfinished message (0 once it is gone). */
export function heldByReceiver(ws: WebSocket): number {
  const r = (ws as unknown as WsInternals)._receiver;
  return r ? r._bufferedBytes + r._messageLength : 0;
}

// Shared listeners (no closure per session, issue #6): `this` is the socket or the WebSocket, which carries its watch.
function onSocketData(this: Carrier): void {
  const w = this[kWatch];
  // Runs after ws's own 'data' listener (added first): the Receiver has taken the chunk.
  if (w !== undefined && !w.budget.set(w.share, heldByReceiver(w.ws))) overBudget(w);
}
function onWsClose(this: Carrier): void {
  const w = this[kWatch];
  if (w !== undefined) w.budget.release(w.share);
}

/** Fails the Receiver as ws fails it over maxPayload: 1009 to the client, no more reads; then drops what it held. */
function overBudget(w: Watch): void {
  const socket = (w.ws as unknown as WsInternals)._socket;
  if (socket) delete socket[kWatch];
  const r = (w.ws as unknown as WsInternals)._receiver;
  if (r) {
    r.destroy(
      r.createError(
        RangeError,
        `Unfinished messages of all sessions passed ${flag('maxBufferedTotal')}`,
        false,
        1009,
        BUFFER_FULL_ERROR,
      ),
    );
    // The Receiver reads nothing more once failed: free its buffers now, not when the client answers the close.
    r._buffers = [];
    r._fragments = [];
    r._bufferedBytes = 0;
    r._messageLength = 0;
  }
  w.budget.release(w.share);
}

/** Starts accounting `ws`'s unfinished messages in `budget` until it closes. */
export function watchReceiver(ws: WebSocket, budget: MessageBudget): void {
  const socket = (ws as unknown as WsInternals)._socket;
  if (!socket) return;
  const watch: Watch = { ws, budget, share: budget.share() };
  socket[kWatch] = watch;
  (ws as unknown as Carrier)[kWatch] = watch;
  socket.on('data', onSocketData);
  ws.on('close', onWsClose as (this: WebSocket) => void);
}
