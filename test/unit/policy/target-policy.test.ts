// Address ranges, the target policy after DNS, Forwarded/X-Forwarded-For, the rate limiter, the per-token counter.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inRange, parseAddressRange, type AddressRange } from '../../../src/policy/cidr.js';
import { clientFromHeaders, forwardedFor } from '../../../src/policy/forwarded.js';
import { isHostAllowed, parseRate, RateLimiter, rateKey, SessionCounter } from '../../../src/policy/rate-limit.js';
import { checkTargetAddress } from '../../../src/policy/target-policy.js';

const range = (t: string, ports = true): AddressRange => {
  const r = parseAddressRange(t, ports);
  if (typeof r === 'string') throw new Error(r);
  return r;
};

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

describe('Forwarded / X-Forwarded-For', () => {
  const trusted = [range('10.0.0.0/8', false)];
  const peer = { address: '10.0.0.5', port: 40000 };

  test('RFC 7239 syntax: quoted IPv6 with port, several elements, obfuscated nodes', () => {
    assert.deepEqual(forwardedFor(['for="[2001:db8:cafe::17]:4711";proto=https, for=192.0.2.60;by=203.0.113.43']), [
      { address: '2001:db8:cafe::17', port: 4711 },
      { address: '192.0.2.60', port: 0 },
    ]);
    assert.deepEqual(forwardedFor(['for=_hidden, for=unknown']), [undefined, undefined]);
  });

  test('rightmost untrusted wins; a forged leftmost entry is ignored', () => {
    assert.deepEqual(clientFromHeaders(peer, { xForwardedFor: ['6.6.6.6, 198.51.100.9, 10.0.0.2'] }, trusted), {
      address: '198.51.100.9',
      port: 0,
    });
    assert.deepEqual(clientFromHeaders(peer, { forwarded: ['for=6.6.6.6', 'for="198.51.100.9:1234"'] }, trusted), {
      address: '198.51.100.9',
      port: 1234,
    });
    assert.deepEqual(
      clientFromHeaders(peer, { forwarded: ['for=198.51.100.1'], xForwardedFor: ['6.6.6.6'] }, trusted).address,
      '198.51.100.1',
      'Forwarded wins over X-Forwarded-For',
    );
  });

  test('an untrusted peer: headers ignored; an unusable hop stops the walk', () => {
    const stranger = { address: '203.0.113.1', port: 1 };
    assert.equal(clientFromHeaders(stranger, { xForwardedFor: ['198.51.100.9'] }, trusted), stranger);
    assert.deepEqual(clientFromHeaders(peer, { xForwardedFor: ['198.51.100.9, garbage'] }, trusted), peer);
    assert.deepEqual(
      clientFromHeaders(peer, { xForwardedFor: ['10.0.0.9'] }, trusted),
      { address: '10.0.0.9', port: 0 },
      'all trusted: the leftmost',
    );
    assert.deepEqual(clientFromHeaders(peer, {}, trusted), peer);
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
