/**
 * The legacy `base64` subprotocol (websockify before 0.9, websockify-other/c): every payload travels as a text frame
 * holding base64 of the bytes. Decoding is strict: Node's own decoder skips characters outside the alphabet, which
 * would silently corrupt what reaches the target.
 */

// Standard alphabet (RFC 4648 §4), padded to a multiple of 4, as btoa() and Python's b64encode write it.
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes one text message of a base64 session; undefined when it is not valid padded base64. Pure. */
export function decodeBase64Message(payload: Buffer): Buffer | undefined {
  const text = payload.toString('latin1');
  if (!STRICT_BASE64.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}
