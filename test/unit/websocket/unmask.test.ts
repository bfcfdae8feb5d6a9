import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { unmaskInPlace, unmaskJs } from '../../../src/websocket/unmask.js';

const KEY = 0x9a3c51e7;
const keyByte = (i: number): number => (KEY >>> (24 - 8 * (i & 3))) & 0xff;

/** `data[i] ^ key[(phase + i) % 4]`, byte by byte. */
function expected(data: Buffer, phase: number): Buffer {
  return Buffer.from(data.map((x, i) => x ^ keyByte(phase + i)));
}

describe('unmaskInPlace', () => {
  test('matches the byte-by-byte definition for every phase, alignment and length (native and JavaScript paths)', () => {
    const backing = Buffer.alloc(300);
    for (let i = 0; i < backing.length; i++) backing[i] = (i * 31 + 7) & 0xff;
    for (const offset of [0, 1, 2, 3]) {
      for (const length of [0, 1, 3, 4, 5, 31, 32, 33, 64, 127, 200]) {
        for (const phase of [0, 1, 2, 3]) {
          const data = Buffer.from(backing.subarray(offset, offset + length));
          const want = expected(data, phase);
          const a = Buffer.alloc(length + offset).subarray(offset); // a view starting off a word boundary
          data.copy(a);
          unmaskInPlace(a, KEY, phase);
          assert.deepEqual(a, want, `native/auto offset ${offset} length ${length} phase ${phase}`);
          const b = Buffer.alloc(length + offset).subarray(offset);
          data.copy(b);
          const rotated = phase === 0 ? KEY : ((KEY << (8 * phase)) | (KEY >>> (32 - 8 * phase))) >>> 0;
          unmaskJs(b, rotated);
          assert.deepEqual(b, want, `js offset ${offset} length ${length} phase ${phase}`);
        }
      }
    }
  });

  test('a zero key leaves the bytes alone; unmasking twice gives the bytes back', () => {
    const data = Buffer.from('unchanged by a zero key, restored by a second pass');
    const copy = Buffer.from(data);
    unmaskInPlace(copy, 0, 2);
    assert.deepEqual(copy, data);
    unmaskInPlace(copy, KEY, 1);
    assert.notDeepEqual(copy, data);
    unmaskInPlace(copy, KEY, 1);
    assert.deepEqual(copy, data);
  });
});
