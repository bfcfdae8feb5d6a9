/**
 * The faults the frame parser fails a stream for: the same code, close code and text as ws's Receiver gives for the
 * same bytes, so the relay's mapping of ws's error codes to wsproxy's reasons (`WS_ERR_UNSUPPORTED_MESSAGE_LENGTH` →
 * `MESSAGE_TOO_BIG`, any other `WS_ERR_*` → `PROTOCOL_ERROR`) applies unchanged. A report to the sink, not a thrown
 * error: nothing here is an exception.
 */

/** ws's error codes for the faults a server without extensions can meet in client frames. */
export type FrameErrorCode =
  | 'WS_ERR_UNEXPECTED_RSV_2_3'
  | 'WS_ERR_UNEXPECTED_RSV_1'
  | 'WS_ERR_INVALID_OPCODE'
  | 'WS_ERR_EXPECTED_FIN'
  | 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH'
  | 'WS_ERR_EXPECTED_MASK'
  | 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH'
  | 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
  | 'WS_ERR_TOO_MANY_BUFFERED_PARTS'
  | 'WS_ERR_INVALID_CLOSE_CODE'
  | 'WS_ERR_INVALID_UTF8';

/** Why the stream failed, and the close code to send (1002, 1007, 1008 or 1009). */
export interface FrameError {
  readonly code: FrameErrorCode;
  readonly closeCode: number;
  readonly message: string;
}

function frameError(code: FrameErrorCode, closeCode: number, message: string): FrameError {
  return Object.freeze({ code, closeCode, message });
}

// ws prefixes the texts of malformed frames (not those of limits) with this.
const INVALID = 'Invalid WebSocket frame: ';

export const RSV_2_3_SET = frameError('WS_ERR_UNEXPECTED_RSV_2_3', 1002, `${INVALID}RSV2 and RSV3 must be clear`);
export const RSV_1_SET = frameError('WS_ERR_UNEXPECTED_RSV_1', 1002, `${INVALID}RSV1 must be clear`);
export const CONTROL_NOT_FIN = frameError('WS_ERR_EXPECTED_FIN', 1002, `${INVALID}FIN must be set`);
export const NOT_MASKED = frameError('WS_ERR_EXPECTED_MASK', 1002, `${INVALID}MASK must be set`);
export const INVALID_UTF8 = frameError('WS_ERR_INVALID_UTF8', 1007, `${INVALID}invalid UTF-8 sequence`);
export const LENGTH_OVER_2_53 = frameError(
  'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
  1009,
  'Unsupported WebSocket frame: payload length > 2^53 - 1',
);
export const MESSAGE_TOO_BIG = frameError('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009, 'Max payload size exceeded');
export const TOO_MANY_FRAGMENTS = frameError('WS_ERR_TOO_MANY_BUFFERED_PARTS', 1008, 'Too many message fragments');

export function invalidOpcode(opcode: number): FrameError {
  return frameError('WS_ERR_INVALID_OPCODE', 1002, `${INVALID}invalid opcode ${opcode}`);
}

/** `length` is the 7-bit length field of the control frame (126 and 127 as written). */
export function invalidControlLength(length: number): FrameError {
  return frameError('WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 1002, `${INVALID}invalid payload length ${length}`);
}

export function invalidCloseCode(code: number): FrameError {
  return frameError('WS_ERR_INVALID_CLOSE_CODE', 1002, `${INVALID}invalid status code ${code}`);
}
