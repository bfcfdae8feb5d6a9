// The pure header decisions of --http-upstream.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clientResponseHeaders, connectionTokens, upstreamRequestHeaders } from '../../src/http/upstream.js';

describe('upstream headers', () => {
  test('connectionTokens reads every line, trimmed and lowercased', () => {
    assert.deepEqual([...connectionTokens(['keep-alive, X-A', ' x-b ,,'])], ['keep-alive', 'x-a', 'x-b']);
    assert.deepEqual([...connectionTokens(undefined)], []);
  });

  test('request: forwarding facts replaced, hop-by-hop and certificate headers dropped, IPv6 quoted in Forwarded', () => {
    const out = upstreamRequestHeaders(
      {
        host: '[::1]:6080',
        connection: 'x-drop',
        'x-drop': '1',
        te: 'trailers',
        upgrade: 'h2c',
        'x-forwarded-for': '10.0.0.1',
        'x-real-ip': '10.0.0.1',
        'x-ssl-client-verify': 'SUCCESS',
        'ssl-client-cert': 'x',
        authorization: 'Basic YTpi',
        cookie: 'c=1',
      },
      { remoteAddress: '2001:db8::7', tls: true, localPort: 6080 },
      true,
    );
    assert.deepEqual(out, {
      host: '[::1]:6080',
      cookie: 'c=1',
      'x-forwarded-for': '2001:db8::7',
      'x-forwarded-proto': 'https',
      'x-ssl-client-verify': 'NONE', // over TLS the certificate facts come from the socket (none here)
      'x-forwarded-host': '[::1]:6080',
      'x-forwarded-port': '6080',
      forwarded: 'for="[2001:db8::7]";proto=https;host="[::1]:6080"',
    });
  });

  test('request: Authorization is kept unless --web-auth consumed it', () => {
    assert.equal(upstreamRequestHeaders({ authorization: 'Bearer x' }, { remoteAddress: '127.0.0.1', tls: false, localPort: undefined }, false).authorization, 'Bearer x');
  });

  test('response: hop-by-hop and Connection-named headers removed, the rest kept', () => {
    assert.deepEqual(
      clientResponseHeaders({ connection: 'close, x-hop', 'x-hop': '1', 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked', 'set-cookie': ['a=1', 'b=2'], 'content-type': 'text/html' }),
      { 'set-cookie': ['a=1', 'b=2'], 'content-type': 'text/html' },
    );
  });
});
