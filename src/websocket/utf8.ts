/**
 * Streaming UTF-8 validation for text messages that arrive in pieces split anywhere, even inside a character. Judges
 * as ws and Node's `isUtf8` do (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF), so a message is
 * valid here exactly when ws would accept it whole.
 */
import { isUtf8 } from 'node:buffer';

/** Between characters: where a message starts, and where a valid one ends. */
export const UTF8_ACCEPT = 0;
/** An invalid byte was seen; final. */
export const UTF8_REJECT = -1;
// Any other state is inside a character, packed as need << 16 | lo << 8 | hi: the continuation bytes still needed and
// the range the next one must be in (only the first continuation's range depends on the lead byte: Unicode Table 3-7).
const CONT = (0x80 << 8) | 0xbf;

// Pieces shorter than this are checked byte by byte: a native call on a view costs more than it saves.
const NATIVE_MIN = 32;

/** The state after a lead byte. */
function afterLead(b: number): number {
  if (b < 0x80) return UTF8_ACCEPT;
  if (b < 0xc2) return UTF8_REJECT; // a stray continuation byte, or C0/C1 (overlong)
  if (b < 0xe0) return (1 << 16) | CONT;
  if (b < 0xf0) return (2 << 16) | ((b === 0xe0 ? 0xa0 : 0x80) << 8) | (b === 0xed ? 0x9f : 0xbf);
  if (b < 0xf5) return (3 << 16) | ((b === 0xf0 ? 0x90 : 0x80) << 8) | (b === 0xf4 ? 0x8f : 0xbf);
  return UTF8_REJECT;
}

/** One byte on from `state` (not UTF8_REJECT). */
export function utf8Step(state: number, b: number): number {
  if (state === UTF8_ACCEPT) return afterLead(b);
  if (b < ((state >> 8) & 0xff) || b > (state & 0xff)) return UTF8_REJECT;
  const need = (state >> 16) - 1;
  return need === 0 ? UTF8_ACCEPT : (need << 16) | CONT;
}

/** Where the character cut off by the end of `buf[start, end)` begins; `end` when none is. */
function cutOffAt(buf: Uint8Array, start: number, end: number): number {
  for (let j = end - 1; j >= start && j >= end - 3; j--) {
    const b = buf[j] as number;
    if (b < 0x80) return end;
    if (b >= 0xc0) return j + (b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2) > end ? j : end;
  }
  return end;
}

/**
 * The state after `buf[start, end)`, given the state before it. A message is valid when its last piece ends in
 * UTF8_ACCEPT; UTF8_REJECT stays UTF8_REJECT.
 */
export function validateUtf8(state: number, buf: Uint8Array, start: number, end: number): number {
  let i = start;
  // Finish a character an earlier piece began.
  for (; state > 0 && i < end; i++) state = utf8Step(state, buf[i] as number);
  if (state < 0 || i === end) return state;
  let tail = i;
  if (end - i >= NATIVE_MIN) {
    // Whole characters natively (simdutf), the one cut off at the end byte by byte.
    tail = cutOffAt(buf, i, end);
    if (!isUtf8(buf.subarray(i, tail))) return UTF8_REJECT;
  }
  for (; tail < end && state >= 0; tail++) state = utf8Step(state, buf[tail] as number);
  return state;
}
