// Pure parts of the admin listener's access rules (issue #12, finding 11): which bind hosts are loopback, which
// requests count as coming from a browser, and which Host names a token-less listener answers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { adminRefusal } from '../../../src/admin/access.js';
import { isLoopbackHost } from '../../../src/policy/cidr.js';

describe('isLoopbackHost', () => {
  test('loopback names and addresses', () => {
    for (const h of ['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '::ffff:127.0.0.1'])
      assert.equal(isLoopbackHost(h), true, h);
  });
  test('everything else', () => {
    for (const h of [
      '0.0.0.0',
      '::',
      '[::]',
      '10.0.0.1',
      '128.0.0.1',
      'myhost',
      'localhost.example',
      '::ffff:10.0.0.1',
      '',
    ])
      assert.equal(isLoopbackHost(h), false, h);
  });
});

describe('adminRefusal', () => {
  const reason = (method: string, headers: Record<string, string>, hasToken = false, tcp = true): string | undefined =>
    adminRefusal(method, headers, hasToken, tcp)?.reason;
  test('changes from a browser are refused, token or not, TCP or unix', () => {
    for (const [hasToken, tcp] of [
      [false, true],
      [true, true],
      [false, false],
    ] as const) {
      assert.equal(reason('POST', { origin: 'http://evil.example' }, hasToken, tcp), 'ADMIN_BROWSER_REFUSED');
      assert.equal(reason('DELETE', { 'sec-fetch-site': 'same-site' }, hasToken, tcp), 'ADMIN_BROWSER_REFUSED');
      assert.equal(reason('POST', { 'sec-fetch-site': 'same-origin' }, hasToken, tcp), 'ADMIN_BROWSER_REFUSED');
    }
  });
  test('programs and reads pass: no Origin, Sec-Fetch-Site none, GET/HEAD', () => {
    assert.equal(reason('POST', {}), undefined);
    assert.equal(reason('POST', { 'sec-fetch-site': 'none' }), undefined);
    assert.equal(reason('GET', { origin: 'http://evil.example', host: '127.0.0.1:9090' }), undefined);
  });
  test('without a token a TCP listener answers only localhost and IP literals as Host', () => {
    for (const host of ['127.0.0.1:9090', 'localhost:9090', 'localhost', '[::1]:9090', '10.1.2.3'])
      assert.equal(reason('GET', { host }), undefined, host);
    assert.equal(reason('GET', {}), undefined, 'no Host (HTTP/1.0)');
    for (const host of ['rebind.attacker.example:9090', 'localhost.attacker.example', 'wsproxy'])
      assert.equal(reason('GET', { host }), 'ADMIN_HOST_NOT_ALLOWED', host);
    assert.equal(reason('GET', { host: 'wsproxy:9090' }, true), undefined, 'with a token any name');
    assert.equal(reason('GET', { host: 'wsproxy' }, false, false), undefined, 'a unix socket has no rebinding');
  });
});
