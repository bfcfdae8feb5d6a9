import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyFirstByte } from '../../src/listener/sniff.js';

test('only 0x16 (TLS record) and 0x80 (SSLv2-style hello) go to TLS; the other 254 bytes to HTTP', () => {
  const tls: number[] = [];
  for (let b = 0; b < 256; b++) if (classifyFirstByte(b) === 'tls') tls.push(b);
  assert.deepEqual(tls, [0x16, 0x80]);
  assert.equal(classifyFirstByte('G'.charCodeAt(0)), 'plain');
});
