// The request policy stage: the failed-auth guard (issue #12).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConnectionContext } from '../../../src/context.js';
import { silentLogger } from '../../../src/log.js';
import { createRequestPolicy } from '../../../src/policy/request-policy.js';

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
