// The real client from Forwarded / X-Forwarded-For behind trusted proxies.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clientFromHeaders, forwardedFor } from '../../../src/policy/forwarded.js';
import { range } from '../../helpers/policy.js';

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
