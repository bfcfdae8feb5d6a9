// The target policy after DNS.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkTargetAddress } from '../../../src/policy/target-policy.js';
import { range } from '../../helpers/policy.js';

describe('target policy (after DNS)', () => {
  test('default: everything but link-local and metadata', () => {
    assert.deepEqual(checkTargetAddress('127.0.0.1', 5900, []), { ok: true });
    assert.deepEqual(checkTargetAddress('10.1.1.1', 5900, []), { ok: true });
    for (const a of [
      '169.254.169.254',
      '::ffff:169.254.169.254',
      'fe80::1',
      'fd00:ec2::254',
      '100.100.100.200',
      '0.0.0.0',
    ]) {
      assert.equal(checkTargetAddress(a, 80, []).ok, false, a);
    }
  });

  test('an allowlist admits only its ranges and ports; metadata only when listed inside its range', () => {
    const allow = [range('10.0.0.0/8:5900-5999')];
    assert.ok(checkTargetAddress('10.2.3.4', 5901, allow).ok);
    assert.deepEqual(checkTargetAddress('10.2.3.4', 22, allow), { ok: false, why: 'not in --allow-target' });
    assert.deepEqual(checkTargetAddress('127.0.0.1', 5901, allow), { ok: false, why: 'not in --allow-target' });
    assert.equal(
      checkTargetAddress('169.254.169.254', 80, [range('0.0.0.0/0')]).ok,
      false,
      'a catch-all does not open metadata',
    );
    assert.ok(checkTargetAddress('169.254.169.254', 80, [range('169.254.169.254/32')]).ok);
  });
});
