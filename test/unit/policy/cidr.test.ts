// Address ranges: IPv4, IPv6, ports, mapped addresses.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inRange, parseAddressRange } from '../../../src/policy/cidr.js';
import { range } from '../../helpers/policy.js';

describe('address ranges', () => {
  test('IPv4, IPv6, single hosts, ports, mapped addresses', () => {
    assert.ok(inRange(range('10.0.0.0/8'), '10.255.1.2'));
    assert.ok(!inRange(range('10.0.0.0/8'), '11.0.0.1'));
    assert.ok(inRange(range('10.0.0.0/8'), '::ffff:10.1.2.3'), 'mapped IPv6 is matched as IPv4');
    assert.ok(inRange(range('192.0.2.7'), '192.0.2.7') && !inRange(range('192.0.2.7'), '192.0.2.8'));
    assert.ok(inRange(range('2001:db8::/32'), '2001:db8:ffff::1'));
    assert.ok(!inRange(range('2001:db8::/32'), '2001:db9::1'));
    assert.ok(inRange(range('[fd00::]/8:5900-5999'), 'fd12::1', 5901));
    assert.ok(!inRange(range('[fd00::]/8:5900-5999'), 'fd12::1', 22));
    assert.ok(inRange(range('10.0.0.0/8:5900,22'), '10.0.0.1', 22));
    assert.ok(inRange(range('10.1.2.3/8'), '10.9.9.9'), 'host bits are cleared');
    assert.ok(!inRange(range('10.0.0.0/8'), 'not-an-ip'));
  });

  test('bad entries say what is wrong', () => {
    for (const bad of [
      '10.0.0.0/33',
      '10.0.0/8',
      'example.com',
      '10.0.0.0/8:0',
      '10.0.0.0/8:70000',
      '[::1',
      '2001:db8::/129',
    ]) {
      assert.equal(typeof parseAddressRange(bad, true), 'string', bad);
    }
    assert.equal(typeof parseAddressRange('10.0.0.0/8:22', false), 'string', 'ports where none are allowed');
  });
});
