// The pure header decisions of --http-upstream.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { upstreamFraming } from '../../../src/http/framing.js';
import {
  clientResponseHeaders,
  connectionTokens,
  dropsHeader,
  headerSafe,
  upstreamRequestHeaders,
} from '../../../src/http/upstream-headers.js';

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
      { stripAuthorization: true },
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
    assert.equal(
      upstreamRequestHeaders(
        { authorization: 'Bearer x' },
        { remoteAddress: '127.0.0.1', tls: false, localPort: undefined },
        { stripAuthorization: false },
      ).authorization,
      'Bearer x',
    );
  });

  test('response: hop-by-hop and Connection-named headers removed, the rest kept', () => {
    assert.deepEqual(
      clientResponseHeaders({
        connection: 'close, x-hop',
        'x-hop': '1',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        'set-cookie': ['a=1', 'b=2'],
        'content-type': 'text/html',
      }),
      { 'set-cookie': ['a=1', 'b=2'], 'content-type': 'text/html' },
    );
  });

  test('request: names with _ are dropped unless kept; protected names are matched after folding _ to -', () => {
    const none = new Set<string>();
    for (const name of [
      'x_ssl_client_verify',
      'x-forwarded_for',
      'x_real_ip',
      'ssl_client_s_dn_cn',
      'transfer_encoding',
      'content_length',
    ]) {
      assert.equal(dropsHeader(name, none, { stripAuthorization: false }), true, name);
      assert.equal(
        dropsHeader(name, none, { stripAuthorization: false, underscoreHeaders: true }),
        true,
        `${name} (kept names)`,
      );
    }
    assert.equal(dropsHeader('my_header', none, { stripAuthorization: false }), true);
    assert.equal(dropsHeader('my_header', none, { stripAuthorization: false, underscoreHeaders: true }), false);
    assert.equal(dropsHeader('x-trace', new Set(['x_trace']), { stripAuthorization: false }), false);
    assert.equal(
      dropsHeader('x_trace', new Set(['x-trace']), { stripAuthorization: false, underscoreHeaders: true }),
      true,
    );
  });

  test('request: the body framing is set last, so Connection cannot remove it', () => {
    const facts = { remoteAddress: '127.0.0.1', tls: false, localPort: undefined };
    assert.equal(
      upstreamRequestHeaders({ connection: 'content-length', 'content-length': '007' }, facts, {
        stripAuthorization: false,
      })['content-length'],
      '7',
    );
    const chunked = upstreamRequestHeaders({ 'transfer-encoding': 'chunked' }, facts, { stripAuthorization: false });
    assert.equal(chunked['transfer-encoding'], 'chunked');
    assert.equal(chunked['content-length'], undefined);
    assert.deepEqual(upstreamFraming({}), {});
  });

  test('certificate text in headers: non-ASCII percent-encoded as UTF-8, a lone surrogate does not throw', () => {
    assert.equal(headerSafe('CN=a\r\nX-Evil: 1'), 'CN=a%0D%0AX-Evil: 1');
    assert.equal(headerSafe('caf\u00e9'), 'caf%C3%A9');
    assert.equal(headerSafe('x\ud800y'), 'x%EF%BF%BDy');
  });
});
