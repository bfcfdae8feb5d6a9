import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { UTF8_ACCEPT, UTF8_REJECT, validateUtf8 } from '../../../src/websocket/utf8.js';

/** The verdict on `bytes` fed in pieces cut at `cuts`: valid when the last state is UTF8_ACCEPT. */
function validInPieces(bytes: Uint8Array, cuts: readonly number[]): boolean {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let state = UTF8_ACCEPT;
  let from = 0;
  for (const to of [...at, bytes.length]) {
    if (state === UTF8_REJECT) break;
    state = validateUtf8(state, bytes, from, to);
    from = to;
  }
  return state === UTF8_ACCEPT;
}

describe('validateUtf8', () => {
  test('agrees with Node isUtf8 (what ws uses) on random bytes and text, whatever the pieces', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 80 }),
      fc.string({ unit: 'binary', maxLength: 60 }).map((s) => new Uint8Array(Buffer.from(s))),
      // Valid text with one byte changed: mostly near-misses.
      fc
        .tuple(
          fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }),
          fc.nat(),
          fc.integer({ min: 0x80, max: 0xff }),
        )
        .map(([s, i, b]) => {
          const buf = Buffer.from(s);
          buf[i % buf.length] = b;
          return new Uint8Array(buf);
        }),
    );
    fc.assert(
      fc.property(bytes, fc.array(fc.nat(), { maxLength: 5 }), (b, cuts) => {
        assert.equal(validInPieces(b, cuts), isUtf8(b));
      }),
      { numRuns: 3000 },
    );
  });

  test('a character split at each of its bytes is still valid; one cut off at the end is not yet', () => {
    const text = Buffer.from('a€😀ü'.repeat(10)); // long enough for the native path
    for (let cut = 0; cut <= text.length; cut++) assert.ok(validInPieces(text, [cut]), `cut at ${cut}`);
    const partial = validateUtf8(UTF8_ACCEPT, text, 0, text.length - 1);
    assert.ok(partial > 0, 'inside a character');
    assert.equal(validateUtf8(partial, text, text.length - 1, text.length), UTF8_ACCEPT);
  });

  test('the classic invalid forms are rejected, short and inside long runs', () => {
    const pad = Buffer.alloc(40, 0x61);
    for (const bad of [
      [0x80],
      [0xc0, 0xaf],
      [0xe0, 0x80, 0xaf],
      [0xed, 0xbf, 0xbf],
      [0xf4, 0x90, 0x80, 0x80],
      [0xfe],
    ]) {
      const b = Buffer.from(bad);
      assert.equal(validateUtf8(UTF8_ACCEPT, b, 0, b.length), UTF8_REJECT, bad.join(','));
      const long = Buffer.concat([pad, b, pad]);
      assert.equal(validateUtf8(UTF8_ACCEPT, long, 0, long.length), UTF8_REJECT, `${bad.join(',')} in a long run`);
    }
  });
});
