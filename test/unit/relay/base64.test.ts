// Strict decoding for the legacy base64 subprotocol.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeBase64Message } from '../../../src/relay/base64.js';

const dec = (s: string): number[] | undefined => {
  const out = decodeBase64Message(Buffer.from(s, 'latin1'));
  return out === undefined ? undefined : [...out];
};

describe('decodeBase64Message', () => {
  test('valid padded base64 of any length, including every byte value', () => {
    assert.deepEqual(dec(''), []);
    assert.deepEqual(dec('AA=='), [0]);
    assert.deepEqual(dec('AP8='), [0, 255]);
    assert.deepEqual(dec('AP+A'), [0, 255, 128]);
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    assert.deepEqual(decodeBase64Message(Buffer.from(all.toString('base64'))), all);
  });
  test('anything else is refused (Node alone would skip the bad characters)', () => {
    for (const bad of [
      'A',
      'AA',
      'AAA',
      'AA=',
      'A===',
      'AA==AA==',
      'AP8',
      'AP8=\n',
      ' AP8=',
      'AP_-',
      'AP8!',
      '====',
      'AA=A',
      'hello world',
      'aGk=\u00ff',
    ]) {
      assert.equal(dec(bad), undefined, JSON.stringify(bad));
    }
  });
});

describe('decodeBase64Message: edge cases and large input', () => {
  test('padding only at the end, at most two, and a length that is a multiple of 4', () => {
    for (const bad of [
      '=',
      '==',
      '===',
      'A=AA',
      '=AAA',
      'AAAA=',
      'AAAA====',
      'AAA=AAAA',
      'AA==\r\n',
      '\u0000AAA',
      'AAA\u0080',
    ]) {
      assert.equal(dec(bad), undefined, JSON.stringify(bad));
    }
    assert.deepEqual(dec('AAAA'), [0, 0, 0]);
    assert.deepEqual(dec('////'), [255, 255, 255]);
    assert.deepEqual(dec('++++AA=='), [0xfb, 0xef, 0xbe, 0]);
  });
  test('a 16 MiB message is validated and decoded without a regex (the old one overflowed the stack at ~4.3 MiB)', () => {
    const raw = Buffer.alloc(12 * 1024 * 1024);
    for (let i = 0; i < raw.length; i += 4096) raw[i] = i & 0xff;
    const text = Buffer.from(raw.toString('base64'), 'latin1');
    assert.equal(text.length, 16 * 1024 * 1024);
    const out = decodeBase64Message(text);
    assert.ok(out !== undefined && out.equals(raw), 'decoded bytes differ');
    text[text.length - 5] = 0x2d; // '-': base64url, not the standard alphabet
    assert.equal(decodeBase64Message(text), undefined);
  });
});

// Property tests: the decoder against references. Seed from FUZZ_SEED or random, printed for replay.
const seed =
  process.env['FUZZ_SEED'] === undefined ? Date.now() ^ (Math.random() * 0x7fffffff) : Number(process.env['FUZZ_SEED']);
// The old strict regex is the reference for which strings are valid; it is fine on short strings.
const REFERENCE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const oddChars = fc.string({ unit: fc.constantFrom(...'ABCxyz019+/=-_ \n\r\t!\u00ff\u0000'.split('')), maxLength: 40 });
// Valid base64 with one character replaced: near misses, and sometimes still valid.
const nearMiss = fc
  .tuple(fc.uint8Array({ minLength: 1, maxLength: 30 }), fc.nat(), fc.constantFrom(...'A/+=-_ \n\u00ff'.split('')))
  .map(([b, at, c]) => {
    const s = Buffer.from(b).toString('base64');
    const i = at % s.length;
    return s.slice(0, i) + c + s.slice(i + 1);
  });
const base64ish = fc.oneof(oddChars, nearMiss);

describe(`decodeBase64Message properties (FUZZ_SEED=${seed})`, () => {
  test('round trip: any bytes, encoded by Node, decode to the same bytes', () => {
    console.log(`base64 property seed: FUZZ_SEED=${seed}`);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        const buf = Buffer.from(bytes);
        const out = decodeBase64Message(Buffer.from(buf.toString('base64'), 'latin1'));
        return out !== undefined && out.equals(buf);
      }),
      { seed, numRuns: 500 },
    );
  });
  test('accepts exactly what the strict reference accepts, and then decodes as Node does', () => {
    fc.assert(
      fc.property(base64ish, (s) => {
        const out = decodeBase64Message(Buffer.from(s, 'latin1'));
        if (!REFERENCE.test(s)) return out === undefined;
        return out !== undefined && out.equals(Buffer.from(s, 'base64'));
      }),
      { seed, numRuns: 5000 },
    );
  });
});
