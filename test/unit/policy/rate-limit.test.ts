// The rate limiter, the per-token counter, the Host list; per-IP keys (/64, IPv4-mapped, issue #12) and the
// connection gate with 0 = no limit.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ConnectionGate } from '../../../src/listener/listen.js';
import { isHostAllowed, parseRate, RateLimiter, rateKey, SessionCounter } from '../../../src/policy/rate-limit.js';

const hex16 = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));

describe('the per-client key (rateKey): IPv6 by /64, IPv4-mapped as IPv4', () => {
  test('every address of one /64 has one key; addresses of different /64s differ', () => {
    fc.assert(
      fc.property(
        fc.tuple(hex16, hex16, hex16, hex16),
        (low) => rateKey(`2001:db8:aa:bb:${low.join(':')}`) === rateKey('2001:db8:aa:bb::1'),
      ),
      { seed: 12_10, numRuns: 300 },
    );
    fc.assert(
      fc.property(hex16, hex16, (a, b) => a === b || rateKey(`2001:db8:${a}::1`) !== rateKey(`2001:db8:${b}::1`)),
      { seed: 12_11, numRuns: 300 },
    );
    assert.equal(rateKey('::1'), rateKey('::2'), 'loopback ::1 and ::2 share the /64 ::/64');
    assert.equal(rateKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(rateKey('::ffff:c000:207'), '192.0.2.7', 'hex spelling of a mapped address');
    assert.equal(rateKey('unix'), 'unix');
  });
});

describe('ConnectionGate', () => {
  test('one IPv6 /64 shares one per-IP budget; mapped IPv4 counts as the IPv4 address', () => {
    const gate = new ConnectionGate(100, 2);
    assert.ok(gate.admit('2001:db8:1:2::1').ok);
    assert.ok(gate.admit('2001:db8:1:2:ffff::9').ok);
    assert.deepEqual(gate.admit('2001:db8:1:2:1234::77'), { ok: false, reason: 'CONNECTION_LIMIT_PER_IP' });
    assert.ok(gate.admit('2001:db8:1:3::1').ok, 'another /64 has its own budget');
    assert.ok(gate.admit('192.0.2.1').ok);
    assert.ok(gate.admit('::ffff:192.0.2.1').ok);
    assert.equal(gate.admit('192.0.2.1').ok, false);
    gate.release('::ffff:192.0.2.1');
    assert.ok(gate.admit('192.0.2.1').ok, 'released under the same key');
    assert.equal(gate.atCap('2001:db8:1:2::abcd'), true);
    assert.equal(gate.atCap('2001:db8:9::1'), false);
    assert.equal(gate.refused.CONNECTION_LIMIT_PER_IP, 3);
  });

  test('Infinity (the parsed 0) admits without bound', () => {
    const gate = new ConnectionGate(Infinity, Infinity);
    for (let i = 0; i < 1000; i++) assert.ok(gate.admit('192.0.2.1').ok);
    assert.equal(gate.open, 1000);
  });
});

describe('rate limit, per-token counter, Host allowlist', () => {
  test('parseRate', () => {
    assert.deepEqual(parseRate('10/s'), { perSecond: 10, burst: 10 });
    assert.deepEqual(parseRate('60/min'), { perSecond: 1, burst: 60 });
    assert.deepEqual(parseRate('2'), { perSecond: 2, burst: 2 });
    for (const bad of ['', '0/s', 'ten', '5/fortnight', '-1']) assert.equal(parseRate(bad), undefined, bad);
  });

  test('token bucket: burst, then refusals with Retry-After, then refill; keys are separate', () => {
    const l = new RateLimiter({ perSecond: 1, burst: 2 });
    assert.ok(l.take('a', 0).ok);
    assert.ok(l.take('a', 0).ok);
    assert.deepEqual(l.take('a', 0), { ok: false, retryAfterSeconds: 1 });
    assert.ok(l.take('b', 0).ok, 'another client is not affected');
    assert.ok(l.take('a', 1000).ok, 'refilled after a second');
    assert.equal(l.take('a', 1000).ok, false);
  });

  test('rate keys: IPv4 per address, IPv6 per /64', () => {
    assert.equal(rateKey('192.0.2.1'), '192.0.2.1');
    assert.equal(rateKey('2001:db8:1:2:aaaa::1'), '2001:0db8:0001:0002::/64');
    assert.equal(rateKey('2001:db8:1:2:bbbb::9'), rateKey('2001:db8:1:2::1'), 'one /64, one bucket');
    assert.notEqual(rateKey('2001:db8:1:3::1'), rateKey('2001:db8:1:2::1'));
  });

  test('session counter reserves and releases once', () => {
    const c = new SessionCounter(1);
    const r = c.acquire('t');
    assert.ok(r);
    assert.equal(c.acquire('t'), undefined);
    r();
    r();
    assert.equal(c.count('t'), 0);
    assert.ok(c.acquire('t'));
  });

  test('Host allowlist ignores port and case, accepts [v6]', () => {
    assert.ok(isHostAllowed('VNC.example.com:6080', ['vnc.example.com']));
    assert.ok(isHostAllowed('[::1]:6080', ['::1']));
    assert.ok(!isHostAllowed('evil.test', ['vnc.example.com']));
    assert.ok(!isHostAllowed(undefined, ['vnc.example.com']));
    assert.ok(isHostAllowed('anything', []));
  });
});
