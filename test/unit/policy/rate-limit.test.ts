// Issue #12: per-IP keys (/64, IPv4-mapped), the connection gate with 0 = no limit, the failed-auth guard, and the
// keyed token hash.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { ConnectionContext } from '../../../src/context.js';
import { ConnectionGate } from '../../../src/listener/listen.js';
import { silentLogger } from '../../../src/log.js';
import { rateKey } from '../../../src/policy/rate-limit.js';
import { createRequestPolicy } from '../../../src/policy/request-policy.js';
import { tokenHashWith } from '../../../src/targets/token-hash.js';

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

describe('the failed-auth guard (--auth-failure-limit)', () => {
  const conn = (remoteAddress: string): ConnectionContext => ({
    id: 1,
    remoteAddress,
    remotePort: 1,
    tls: false,
    log: silentLogger,
    handshakeDone: () => undefined,
  });
  const policyAt = (clock: { t: number }) =>
    createRequestPolicy(
      undefined,
      {
        maxSessionsPerToken: 0,
        rateLimit: undefined,
        authFailureLimit: { perSecond: 1 / 60, burst: 3 },
        allowTargets: [],
        allowedHosts: [],
        revalidateIntervalMs: 0,
      },
      () => clock.t,
    );

  test('N failures, then 429 with Retry-After; successes never count; the /64 is one client; it recovers', () => {
    const clock = { t: 1_000_000 };
    const policy = policyAt(clock);
    const fail = (address: string): void => {
      const a = policy.authAttempt(conn(address));
      assert.ok(a.ok);
      a.attempt.settle(true);
    };
    for (let i = 0; i < 20; i++) {
      const a = policy.authAttempt(conn('2001:db8::1'));
      assert.ok(a.ok, 'successful checks are given back');
      a.attempt.settle(false);
    }
    fail('2001:db8::1');
    fail('2001:db8::2');
    fail('2001:db8::3');
    const refused = policy.authAttempt(conn('2001:db8::ffff'));
    assert.ok(!refused.ok);
    assert.equal(refused.refusal.code, 'AUTH_RATE_LIMITED');
    assert.equal(refused.refusal.headers?.['Retry-After'], '60');
    assert.ok(policy.authAttempt(conn('2001:db8:0:1::1')).ok, 'another /64 is another client');
    assert.ok(policy.authAttempt(conn('unix')).ok, 'unix clients have no address to count');
    clock.t += 60_000;
    assert.ok(policy.authAttempt(conn('2001:db8::1')).ok, 'one attempt again after the refill');
  });

  test('unsettled parallel attempts hold their reservation: no more than N guesses in flight', () => {
    const policy = policyAt({ t: 5 });
    const held = [0, 1, 2].map(() => policy.authAttempt(conn('192.0.2.9')));
    assert.ok(held.every((a) => a.ok));
    assert.equal(policy.authAttempt(conn('192.0.2.9')).ok, false);
  });
});

describe('token_hash', () => {
  test('keyed: stable under one key, different under another, never the bare SHA-256 prefix', () => {
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), (token) => {
        const h = tokenHashWith(k1, token);
        return (
          /^[0-9a-f]{12}$/.test(h) &&
          h === tokenHashWith(Buffer.from(k1), token) &&
          h !== tokenHashWith(k2, token) &&
          h !== createHash('sha256').update(token).digest('hex').slice(0, 12)
        );
      }),
      { seed: 12_14, numRuns: 200 },
    );
  });
});
