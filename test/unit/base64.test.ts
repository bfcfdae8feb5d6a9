// Strict decoding for the legacy base64 subprotocol.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeBase64Message } from '../../src/relay/base64.js';

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
    for (const bad of ['A', 'AA', 'AAA', 'AA=', 'A===', 'AA==AA==', 'AP8', 'AP8=\n', ' AP8=', 'AP_-', 'AP8!', '====', 'AA=A', 'hello world', 'aGk=\u00ff']) {
      assert.equal(dec(bad), undefined, JSON.stringify(bad));
    }
  });
});
