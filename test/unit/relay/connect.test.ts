// Which reason a failed target connection gets.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isHttpReason, type ReasonCode } from '../../../src/errors.js';
import { connectFailureReason } from '../../../src/relay/connect.js';

describe('connectFailureReason', () => {
  const e = (code: string): Error => Object.assign(new Error(code), { code });
  const table: ReadonlyArray<readonly [string, ReasonCode]> = [
    ['ECONNREFUSED', 'TARGET_REFUSED'],
    ['ENOENT', 'TARGET_REFUSED'],
    ['EHOSTUNREACH', 'TARGET_UNREACHABLE'],
    ['ENETUNREACH', 'TARGET_UNREACHABLE'],
    ['EHOSTDOWN', 'TARGET_UNREACHABLE'],
    ['ENETDOWN', 'TARGET_UNREACHABLE'],
    ['ENOTFOUND', 'TARGET_DNS'],
    ['EAI_AGAIN', 'TARGET_DNS'],
    ['ETIMEDOUT', 'TARGET_TIMEOUT'],
    ['ECONNRESET', 'TARGET_FAILED'],
    ['EACCES', 'TARGET_FAILED'],
    ['EWHATEVER', 'TARGET_FAILED'],
  ];
  test('errno codes map to reasons', () => {
    for (const [code, reason] of table) assert.equal(connectFailureReason(e(code)), reason, code);
  });
  test('errors without a code, and non-errors, are TARGET_FAILED', () => {
    assert.equal(connectFailureReason(new Error('x')), 'TARGET_FAILED');
    assert.equal(connectFailureReason(undefined), 'TARGET_FAILED');
    assert.equal(connectFailureReason('ECONNREFUSED'), 'TARGET_FAILED');
    assert.equal(connectFailureReason({ code: 111 }), 'TARGET_FAILED');
  });
  test('every result is an HTTP reason (the upgrade path answers it before the 101)', () => {
    for (const [code] of table) assert.ok(isHttpReason(connectFailureReason(e(code))), code);
  });
});
