import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSeconds, parseSize, resolveWorkers } from '../../../src/config/parse.js';
import { ConfigError } from '../../../src/errors.js';
import { configError } from '../../helpers/config.js';

describe('parseSize', () => {
  test('plain bytes and binary units, any case', () => {
    assert.equal(parseSize('65536', '--x'), 65536);
    assert.equal(parseSize('64KiB', '--x'), 65536);
    assert.equal(parseSize('64kb', '--x'), 65536);
    assert.equal(parseSize('16m', '--x'), 16 * 1024 * 1024);
    assert.equal(parseSize('16MiB', '--x'), 16 * 1024 * 1024);
    assert.equal(parseSize('1G', '--x'), 1024 ** 3);
    assert.equal(parseSize('1gib', '--x'), 1024 ** 3);
    assert.equal(parseSize('100b', '--x'), 100);
    assert.equal(parseSize(' 2 k ', '--x'), 2048);
  });
  test('fractions are allowed and rounded down to whole bytes', () => {
    assert.equal(parseSize('1.5k', '--x'), 1536);
    assert.equal(parseSize('0.5KiB', '--x'), 512);
    assert.equal(parseSize('1.5', '--x'), 1);
  });
  test('unknown units and non-numbers are refused with the flag named', () => {
    configError(() => parseSize('10XB', '--max-message-size'), '--max-message-size', /not a size/);
    configError(() => parseSize('10T', '--max-message-size'), '--max-message-size', /not a size/);
    configError(() => parseSize('', '--high-water-mark'), '--high-water-mark', /not a size/);
    configError(() => parseSize('-1', '--high-water-mark'), '--high-water-mark', /not a size/);
    configError(() => parseSize('1e6', '--high-water-mark'), '--high-water-mark', /not a size/);
    configError(() => parseSize('KiB', '--high-water-mark'), '--high-water-mark', /not a size/);
  });
  test('sizes below one byte are refused', () => {
    configError(() => parseSize('0', '--high-water-mark'), '--high-water-mark', /at least 1 byte/);
    configError(() => parseSize('0.5', '--high-water-mark'), '--high-water-mark', /at least 1 byte/);
  });
});

describe('parseSeconds', () => {
  test('seconds become milliseconds', () => {
    assert.equal(parseSeconds('10', '--x'), 10_000);
    assert.equal(parseSeconds('0.25', '--x'), 250);
    assert.equal(parseSeconds('2.5', '--x'), 2500);
    assert.equal(parseSeconds(' 3 ', '--x'), 3000);
  });
  test('0 only where allowed', () => {
    assert.equal(parseSeconds('0', '--shutdown-timeout', true), 0);
    configError(() => parseSeconds('0', '--handshake-timeout'), '--handshake-timeout', /positive/);
    configError(() => parseSeconds('0.0', '--connect-timeout'), '--connect-timeout', /positive/);
  });
  test('units, signs, exponents and empty text are refused', () => {
    configError(() => parseSeconds('10s', '--connect-timeout'), '--connect-timeout', /seconds/);
    configError(() => parseSeconds('-1', '--connect-timeout'), '--connect-timeout', /seconds/);
    configError(() => parseSeconds('1e3', '--connect-timeout'), '--connect-timeout', /seconds/);
    configError(() => parseSeconds('', '--connect-timeout'), '--connect-timeout', /seconds/);
    configError(() => parseSeconds('abc', '--shutdown-timeout', true), '--shutdown-timeout', /seconds/);
  });

  // Values a timer cannot honour (Node clamps anything past 2^31-1 ms to 1 ms) are refused, naming the limit.
  test('a positive value shorter than a millisecond is refused, never a 0 ms deadline', () => {
    configError(
      () => parseSeconds('0.0001', '--handshake-timeout'),
      '--handshake-timeout',
      /shorter than a millisecond; give at least 0\.001 seconds/,
    );
    configError(() => parseSeconds('0.0004', '--connect-timeout'), '--connect-timeout', /shorter than a millisecond/);
  });
  test('a value too large for a Node timer is refused', () => {
    configError(
      () => parseSeconds('2147484', '--handshake-timeout'),
      '--handshake-timeout',
      /too long; give at most 2147483 seconds/,
    ); // 2147484000 ms > 2^31-1
    configError(() => parseSeconds('3000000', '--connect-timeout'), '--connect-timeout', /too long/);
    configError(() => parseSeconds('3000000', '--heartbeat', true), '--heartbeat', /too long/); // else a ping every ~1 ms
  });
  test('the largest value a timer can honour is accepted', () => {
    assert.equal(parseSeconds('2147483', '--connect-timeout'), 2_147_483_000);
    assert.equal(parseSeconds('0.001', '--connect-timeout'), 1);
  });
});

describe('resolveWorkers', () => {
  test('a count, auto, or the default of one process', () => {
    assert.equal(resolveWorkers(undefined, 8), 1);
    assert.equal(resolveWorkers('3', 8), 3);
    assert.equal(resolveWorkers('auto', 8), 8);
    assert.equal(resolveWorkers('auto', 0), 1);
  });
  test('zero, negative, fractions, words and huge counts are refused naming the flag', () => {
    for (const bad of ['0', '-1', '1.5', 'many', '65', ' 2']) {
      assert.throws(
        () => resolveWorkers(bad, 2),
        (err: Error) => err instanceof ConfigError && /--workers/.test(err.message),
      );
    }
  });
});

describe('edge values found in review', () => {
  test('absurd sizes are refused', () => {
    assert.throws(() => parseSize('9'.repeat(400), '--max-message-size'), ConfigError);
  });
});
