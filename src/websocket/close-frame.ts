/** The payload of a client's close frame (RFC 6455 §5.5.1, §7.4): its code and reason, judged as ws judges them. */
import { INVALID_UTF8, invalidCloseCode, type FrameError } from './frame-error.js';
import { UTF8_ACCEPT, validateUtf8 } from './utf8.js';

/** The code a close frame without a payload stands for (ws reports it so; it never goes on the wire). */
export const NO_STATUS = 1005;

/**
 * Whether a peer may send `code`: 1000–1014 except 1004 (reserved), 1005 and 1006 (never on the wire), and
 * 3000–4999 (registered and private). Like ws, 1015 (never on the wire either) is refused too.
 */
export function isValidCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999)
  );
}

/** What is wrong with a close payload of 2 to 125 bytes (code, then a UTF-8 reason); undefined when nothing is. */
export function closePayloadError(payload: Buffer): FrameError | undefined {
  const code = payload.readUInt16BE(0);
  if (!isValidCloseCode(code)) return invalidCloseCode(code);
  if (validateUtf8(UTF8_ACCEPT, payload, 2, payload.length) !== UTF8_ACCEPT) return INVALID_UTF8;
  return undefined;
}
