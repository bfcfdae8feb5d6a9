/**
 * The legacy `base64` subprotocol (websockify before 0.9, websockify-other/c): every payload travels as a text frame
 * holding base64 of the bytes. Decoding is strict: Node's own decoder skips characters outside the alphabet, which
 * would silently corrupt what reaches the target.
 *
 * Validation is one linear pass over the bytes with a lookup table, never a regular expression over the whole message:
 * V8's backtracking regex overflowed the stack on messages of about 4.3 MiB and killed the process (issue #12).
 */

// 1 for each byte of the standard alphabet (RFC 4648 §4: A–Z a–z 0–9 + /), 0 for every other byte.
const ALPHABET = (() => {
  const table = new Uint8Array(256);
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < chars.length; i++) table[chars.charCodeAt(i)] = 1;
  return table;
})();
const PAD = 0x3d; // '='

/** Whether `payload` is standard base64, padded to a multiple of 4 (as btoa() and Python's b64encode write it). Pure. */
export function isStrictBase64(payload: Uint8Array): boolean {
  const n = payload.length;
  if (n % 4 !== 0) return false;
  if (n === 0) return true;
  // At most two '=' and only at the very end: 'xx==' or 'xxx='.
  const pad = payload[n - 1] === PAD ? (payload[n - 2] === PAD ? 2 : 1) : 0;
  const end = n - pad;
  for (let i = 0; i < end; i++) {
    if (ALPHABET[payload[i] as number] === 0) return false;
  }
  return true;
}

/** Decodes one text message of a base64 session; undefined when it is not valid padded base64. Pure, linear. */
export function decodeBase64Message(payload: Buffer): Buffer | undefined {
  if (!isStrictBase64(payload)) return undefined;
  // Validated: Node's native decoder now sees only alphabet bytes and trailing padding, so it skips nothing.
  return Buffer.from(payload.toString('latin1'), 'base64');
}
