/**
 * Unmasks client payload in place (RFC 6455 §5.3), starting anywhere in the 4-byte masking key, so a frame can be
 * unmasked piece by piece as its chunks arrive. Uses bufferutil when it loads (the optional dependency ws uses for the
 * same job, SIMD), else whole 32-bit words in JavaScript.
 */
import { createRequire } from 'node:module';
import { endianness } from 'node:os';

interface NativeMask {
  unmask(buffer: Buffer, mask: Buffer): void;
}

function loadNative(): NativeMask | undefined {
  try {
    return createRequire(import.meta.url)('bufferutil') as NativeMask;
  } catch {
    return undefined; // not installed or not built: the JavaScript loop below
  }
}

const native = loadNative();
// The key rotated to the current phase, for the native call (synchronous, so one buffer serves every caller).
const rotated = Buffer.alloc(4);
const LITTLE_ENDIAN = endianness() === 'LE';
// Below this many bytes a byte loop beats setting up a native call or a word view.
const WORDS_MIN = 32;

/** `key` (big-endian: its first byte is the mask's first) turned so that its first byte is mask byte `phase`. */
function rotate(key: number, phase: number): number {
  return phase === 0 ? key : ((key << (8 * phase)) | (key >>> (32 - 8 * phase))) >>> 0;
}

/** XORs `buf` with the masking `key`, whose byte `phase` (0–3) applies to `buf[0]`. */
export function unmaskInPlace(buf: Buffer, key: number, phase: number): void {
  if (key === 0) return; // an all-zero key masks nothing
  const k = rotate(key, phase);
  if (buf.length >= WORDS_MIN && native !== undefined) {
    rotated.writeUInt32BE(k, 0);
    native.unmask(buf, rotated);
    return;
  }
  unmaskJs(buf, k);
}

/** The JavaScript path of {@link unmaskInPlace}, with the key already rotated (exported for the tests). */
export function unmaskJs(buf: Buffer, k: number): void {
  const n = buf.length;
  let i = 0;
  if (n >= WORDS_MIN && LITTLE_ENDIAN) {
    // Bytes up to a 4-byte boundary, then whole words of the key turned to where they start.
    for (; ((buf.byteOffset + i) & 3) !== 0; i++) buf[i] = (buf[i] as number) ^ (k >>> (24 - 8 * (i & 3)));
    const words = (n - i) >>> 2;
    const kw = rotate(k, i & 3);
    const le = (kw >>> 24) | ((kw >>> 8) & 0xff00) | ((kw << 8) & 0xff0000) | (kw << 24) | 0;
    const view = new Int32Array(buf.buffer, buf.byteOffset + i, words);
    let w = 0;
    for (const n4 = words & ~3; w < n4; w += 4) {
      view[w] = (view[w] as number) ^ le;
      view[w + 1] = (view[w + 1] as number) ^ le;
      view[w + 2] = (view[w + 2] as number) ^ le;
      view[w + 3] = (view[w + 3] as number) ^ le;
    }
    for (; w < words; w++) view[w] = (view[w] as number) ^ le;
    i += words * 4;
  }
  for (; i < n; i++) buf[i] = (buf[i] as number) ^ (k >>> (24 - 8 * (i & 3)));
}
