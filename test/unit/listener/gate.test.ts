import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCount } from '../../../src/config/parse.js';
import { ConnectionGate } from '../../../src/listener/listen.js';

describe('ConnectionGate', () => {
  test('the global cap: the connection past it is refused with CONNECTION_LIMIT, and counted', () => {
    const gate = new ConnectionGate(2, 10);
    assert.deepEqual(gate.admit('10.0.0.1'), { ok: true });
    assert.deepEqual(gate.admit('10.0.0.2'), { ok: true });
    assert.deepEqual(gate.admit('10.0.0.3'), { ok: false, reason: 'CONNECTION_LIMIT' });
    assert.deepEqual(gate.admit(undefined), { ok: false, reason: 'CONNECTION_LIMIT' }, 'unix clients count too');
    assert.equal(gate.open, 2);
    assert.deepEqual(gate.refused, { CONNECTION_LIMIT: 2, CONNECTION_LIMIT_PER_IP: 0 });
  });

  test('the per-address cap counts each address on its own', () => {
    const gate = new ConnectionGate(100, 2);
    assert.equal(gate.admit('10.0.0.1').ok, true);
    assert.equal(gate.admit('10.0.0.1').ok, true);
    assert.deepEqual(gate.admit('10.0.0.1'), { ok: false, reason: 'CONNECTION_LIMIT_PER_IP' });
    assert.equal(gate.admit('10.0.0.2').ok, true, 'another address has its own count');
    assert.equal(gate.open, 3);
    assert.deepEqual(gate.refused, { CONNECTION_LIMIT: 0, CONNECTION_LIMIT_PER_IP: 1 });
  });

  test('IPv6 addresses share a count per /64; IPv4-mapped IPv6 counts as its IPv4 address', () => {
    const gate = new ConnectionGate(100, 1);
    assert.equal(gate.admit('2001:db8:1:2::1').ok, true);
    assert.equal(gate.admit('2001:db8:1:2::ffff').ok, false, 'same /64');
    assert.equal(gate.admit('2001:db8:1:3::1').ok, true, 'another /64');
    assert.equal(gate.admit('192.0.2.7').ok, true);
    assert.equal(gate.admit('::ffff:192.0.2.7').ok, false, 'mapped: same address');
  });

  test('addressless (unix) clients are held to the global cap only', () => {
    const gate = new ConnectionGate(3, 1);
    for (let i = 0; i < 3; i++) assert.equal(gate.admit(undefined).ok, true);
    assert.deepEqual(gate.admit(undefined), { ok: false, reason: 'CONNECTION_LIMIT' });
  });

  test('release gives the slot back, globally and for the address', () => {
    const gate = new ConnectionGate(2, 1);
    assert.equal(gate.admit('10.0.0.1').ok, true);
    assert.equal(gate.admit(undefined).ok, true);
    assert.equal(gate.admit('10.0.0.2').ok, false);
    gate.release('10.0.0.1');
    assert.equal(gate.open, 1);
    assert.equal(gate.admit('10.0.0.1').ok, true, 'the address has its slot again');
    gate.release(undefined);
    gate.release('10.0.0.1');
    assert.equal(gate.open, 0);
    assert.equal(gate.admit('10.0.0.1').ok, true);
    assert.equal(gate.admit('10.0.0.3').ok, true);
  });

  test('setLimits applies to new admissions; open connections keep their slots', () => {
    const gate = new ConnectionGate(10, 10);
    for (let i = 0; i < 3; i++) assert.equal(gate.admit('10.0.0.1').ok, true);
    gate.setLimits(10, 2);
    assert.equal(gate.open, 3);
    assert.deepEqual(gate.admit('10.0.0.1'), { ok: false, reason: 'CONNECTION_LIMIT_PER_IP' });
    gate.release('10.0.0.1');
    gate.release('10.0.0.1');
    assert.equal(gate.admit('10.0.0.1').ok, true, 'under the new cap again after two releases');
    gate.setLimits(2, 10);
    assert.deepEqual(gate.admit('10.0.0.9'), { ok: false, reason: 'CONNECTION_LIMIT' });
    gate.setLimits(3, 10);
    assert.equal(gate.admit('10.0.0.9').ok, true, 'a raised cap admits at once');
  });

  test('0 (no limit, as parsed from the command line) admits any number', () => {
    const none = parseCount('0', '--max-connections');
    const gate = new ConnectionGate(none, none);
    for (let i = 0; i < 5_000; i++) assert.equal(gate.admit('10.0.0.1').ok, true);
    assert.equal(gate.open, 5_000);
    assert.deepEqual(gate.refused, { CONNECTION_LIMIT: 0, CONNECTION_LIMIT_PER_IP: 0 });
  });

  test('atCap checks without taking a slot; assign counts an addressless connection against an address', () => {
    const gate = new ConnectionGate(10, 1);
    assert.equal(gate.atCap('10.0.0.1'), false);
    assert.equal(gate.admit(undefined).ok, true); // behind a PROXY-protocol balancer: address not known yet
    assert.deepEqual(gate.assign('10.0.0.1'), { ok: true });
    assert.equal(gate.open, 1, 'assign takes no second global slot');
    assert.equal(gate.atCap('10.0.0.1'), true);
    assert.equal(gate.admit(undefined).ok, true);
    assert.deepEqual(gate.assign('10.0.0.1'), { ok: false, reason: 'CONNECTION_LIMIT_PER_IP' });
    assert.deepEqual(gate.refused, { CONNECTION_LIMIT: 0, CONNECTION_LIMIT_PER_IP: 2 });
    gate.release('10.0.0.1');
    assert.equal(gate.atCap('10.0.0.1'), false);
  });
});
