import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifyFirstByte } from '../../src/listener/sniff.js';

describe('classifyFirstByte', () => {
  test('every one of the 256 byte values: exactly 0x16 and 0x80 are TLS, the rest plain', () => {
    for (let b = 0; b < 256; b++) {
      const expected = b === 0x16 || b === 0x80 ? 'tls' : 'plain';
      assert.equal(classifyFirstByte(b), expected, `byte 0x${b.toString(16).padStart(2, '0')}`);
    }
  });

  test('the two TLS bytes and their neighbours', () => {
    assert.equal(classifyFirstByte(0x16), 'tls'); // TLS handshake record
    assert.equal(classifyFirstByte(0x80), 'tls'); // SSLv2-style ClientHello
    assert.equal(classifyFirstByte(0x15), 'plain');
    assert.equal(classifyFirstByte(0x17), 'plain');
    assert.equal(classifyFirstByte(0x7f), 'plain');
    assert.equal(classifyFirstByte(0x81), 'plain');
    assert.equal(classifyFirstByte(0xff), 'plain');
    assert.equal(classifyFirstByte(0x00), 'plain');
  });

  test('the first byte of HTTP methods is plain', () => {
    for (const method of ['GET', 'HEAD', 'POST', 'OPTIONS', 'PRI']) {
      assert.equal(classifyFirstByte(method.charCodeAt(0)), 'plain', method);
    }
  });
});
