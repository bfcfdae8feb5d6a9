/** How the relay names the end of a session: pure decisions on close codes and ws error codes. */
import type { ReasonCode } from '../errors.js';

export const TEXT_FRAME_CLOSE = 'Text frames are not supported';
export const BAD_BASE64_CLOSE = 'Invalid base64 data';

// ws error codes that are the client's fault, and what we call them.
const WS_ERROR_REASONS: Record<string, ReasonCode> = {
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 'MESSAGE_TOO_BIG',
  // Raised by websocket/receiver-budget.ts: this session would have passed `maxBufferedTotal`.
  WSPROXY_MESSAGE_BUFFER_FULL: 'MESSAGE_BUFFER_FULL',
};

/** The reason for a WebSocket error with this code (`''` when it has none): ws's own codes are protocol errors. */
export function wsErrorReason(code: string): ReasonCode {
  return WS_ERROR_REASONS[code] ?? (code.startsWith('WS_ERR_') ? 'PROTOCOL_ERROR' : 'CLIENT_GONE');
}

/** The reason when the client's side closed first with `code`: 1006 means the connection just dropped. */
export function clientCloseReason(code: number): ReasonCode {
  return code === 1006 ? 'CLIENT_GONE' : 'CLIENT_CLOSED';
}
