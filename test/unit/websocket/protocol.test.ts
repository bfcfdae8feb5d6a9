import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, test } from 'node:test';
import { httpStatusOf } from '../../../src/errors.js';
import {
  chooseSubprotocol,
  isOriginAllowed,
  parseHostHeader,
  validateHandshake,
} from '../../../src/websocket/protocol.js';

// RFC 6455 §1.3's sample key.
const GOOD: IncomingHttpHeaders = {
  host: 'h:6080',
  upgrade: 'websocket',
  connection: 'Upgrade',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'sec-websocket-version': '13',
};

/** GOOD without one header. */
function without(name: keyof IncomingHttpHeaders): IncomingHttpHeaders {
  const headers = { ...GOOD };
  delete headers[name];
  return headers;
}

describe('chooseSubprotocol', () => {
  const protocolOf = (lines: string[] | undefined): string | undefined => {
    const c = chooseSubprotocol(lines);
    assert.ok(c.ok, `expected ok for ${JSON.stringify(lines)}`);
    return c.protocol;
  };
  const problemOf = (lines: string[]): string => {
    const c = chooseSubprotocol(lines);
    assert.ok(!c.ok, `expected a problem for ${JSON.stringify(lines)}`);
    assert.ok(c.problem.message.length > 0);
    return c.problem.code;
  };

  test('nothing offered → no protocol (modern noVNC)', () => {
    assert.equal(protocolOf(undefined), undefined);
    assert.equal(protocolOf([]), undefined);
    assert.equal(protocolOf(['']), undefined);
  });
  test("'binary' alone", () => {
    assert.equal(protocolOf(['binary']), 'binary');
  });
  test("'binary' after another item on one line (websockify answers 400 here)", () => {
    assert.equal(protocolOf(['base64, binary']), 'binary');
    assert.equal(protocolOf(['base64,binary']), 'binary');
  });
  test("'binary' on a second header line", () => {
    assert.equal(protocolOf(['base64', 'binary']), 'binary');
    assert.equal(protocolOf(['chat', 'base64, binary']), 'binary');
  });
  test("'base64' without 'binary' → the legacy base64 protocol; 'binary' wins when both are offered", () => {
    assert.equal(protocolOf(['base64']), 'base64');
    assert.equal(protocolOf(['chat, base64']), 'base64');
    assert.equal(protocolOf(['chat', ' base64 ']), 'base64');
    assert.equal(protocolOf(['binary, base64']), 'binary');
    assert.equal(problemOf(['Base64']), 'SUBPROTOCOL_UNSUPPORTED'); // case-sensitive, like 'binary'
  });
  test('items are trimmed', () => {
    assert.equal(protocolOf(['  binary  ,chat']), 'binary');
    assert.equal(protocolOf(['chat ,\tbinary']), 'binary');
  });
  test('only other protocols → SUBPROTOCOL_UNSUPPORTED, a 400 naming what was offered', () => {
    const c = chooseSubprotocol(['chat']);
    assert.ok(!c.ok);
    assert.equal(c.problem.code, 'SUBPROTOCOL_UNSUPPORTED');
    assert.equal(httpStatusOf(c.problem.code), 400);
    assert.match(c.problem.message, /chat/);
    assert.equal(problemOf(['Binary']), 'SUBPROTOCOL_UNSUPPORTED'); // subprotocol names are case-sensitive
  });
  test('values that are not tokens → BAD_HANDSHAKE', () => {
    assert.equal(problemOf(['bin ary']), 'BAD_HANDSHAKE');
    assert.equal(problemOf(['a;b']), 'BAD_HANDSHAKE');
    assert.equal(problemOf(['binary, "chat"']), 'BAD_HANDSHAKE');
    assert.equal(problemOf(['binary, a/b']), 'BAD_HANDSHAKE');
  });
  test('duplicates → BAD_HANDSHAKE, on one line or across lines', () => {
    assert.equal(problemOf(['binary, binary']), 'BAD_HANDSHAKE');
    assert.equal(problemOf(['binary', 'binary']), 'BAD_HANDSHAKE');
    assert.equal(problemOf(['chat, chat']), 'BAD_HANDSHAKE');
  });
});

describe('validateHandshake', () => {
  test('a good GET passes', () => {
    assert.equal(validateHandshake('GET', GOOD), undefined);
  });
  test('Upgrade is case-insensitive and values are trimmed', () => {
    assert.equal(validateHandshake('GET', { ...GOOD, upgrade: 'WebSocket' }), undefined);
    assert.equal(validateHandshake('GET', { ...GOOD, 'sec-websocket-key': ' dGhlIHNhbXBsZSBub25jZQ== ' }), undefined);
  });
  test('version 8 is accepted, as ws accepts it', () => {
    assert.equal(validateHandshake('GET', { ...GOOD, 'sec-websocket-version': '8' }), undefined);
  });
  test('a method other than GET → METHOD_NOT_ALLOWED with Allow: GET', () => {
    const p = validateHandshake('POST', GOOD);
    assert.ok(p);
    assert.equal(p.code, 'METHOD_NOT_ALLOWED');
    assert.deepEqual(p.headers, { Allow: 'GET' });
    assert.equal(validateHandshake('HEAD', GOOD)?.code, 'METHOD_NOT_ALLOWED');
    assert.equal(validateHandshake(undefined, GOOD)?.code, 'METHOD_NOT_ALLOWED');
  });
  test('a missing Host → BAD_HANDSHAKE', () => {
    assert.equal(validateHandshake('GET', without('host'))?.code, 'BAD_HANDSHAKE');
  });
  test('a missing or other Upgrade → BAD_HANDSHAKE', () => {
    assert.equal(validateHandshake('GET', without('upgrade'))?.code, 'BAD_HANDSHAKE');
    assert.equal(validateHandshake('GET', { ...GOOD, upgrade: 'h2c' })?.code, 'BAD_HANDSHAKE');
    assert.equal(validateHandshake('GET', { ...GOOD, upgrade: 'websocket, h2c' })?.code, 'BAD_HANDSHAKE');
  });
  test('a missing or malformed key → BAD_HANDSHAKE', () => {
    assert.equal(validateHandshake('GET', without('sec-websocket-key'))?.code, 'BAD_HANDSHAKE');
    for (const key of [
      'abc',
      '',
      'dGhlIHNhbXBsZSBub25jZQ=',
      'dGhlIHNhbXBsZSBub25jZQ===',
      'dGhlIHNhbXBsZSBub25jZQ',
      'dGhlIHNhbXBsZSBub25j*Q==',
    ]) {
      assert.equal(validateHandshake('GET', { ...GOOD, 'sec-websocket-key': key })?.code, 'BAD_HANDSHAKE', key);
    }
  });
  test('version 12, another or missing → UNSUPPORTED_VERSION (426) with Sec-WebSocket-Version: 13', () => {
    const old = validateHandshake('GET', { ...GOOD, 'sec-websocket-version': '12' });
    assert.ok(old);
    assert.equal(old.code, 'UNSUPPORTED_VERSION');
    assert.equal(httpStatusOf(old.code), 426);
    assert.deepEqual(old.headers, { 'Sec-WebSocket-Version': '13' });
    const missing = validateHandshake('GET', without('sec-websocket-version'));
    assert.ok(missing);
    assert.equal(missing.code, 'UNSUPPORTED_VERSION');
    assert.deepEqual(missing.headers, { 'Sec-WebSocket-Version': '13' });
    assert.equal(validateHandshake('GET', { ...GOOD, 'sec-websocket-version': '14' })?.code, 'UNSUPPORTED_VERSION');
    assert.equal(validateHandshake('GET', { ...GOOD, 'sec-websocket-version': '' })?.code, 'UNSUPPORTED_VERSION');
  });
  test('checks run in order: method, Upgrade, key, version', () => {
    assert.equal(validateHandshake('POST', {})?.code, 'METHOD_NOT_ALLOWED');
    assert.equal(validateHandshake('GET', { 'sec-websocket-version': '12' })?.code, 'BAD_HANDSHAKE');
  });
});

describe('parseHostHeader', () => {
  test('name and port, lowercased', () => {
    assert.deepEqual(parseHostHeader('Example.com:6080'), { hostname: 'example.com', port: 6080 });
    assert.deepEqual(parseHostHeader('127.0.0.1:80'), { hostname: '127.0.0.1', port: 80 });
  });
  test('no port written → port undefined', () => {
    assert.deepEqual(parseHostHeader('h'), { hostname: 'h', port: undefined });
    assert.deepEqual(parseHostHeader('[::1]'), { hostname: '::1', port: undefined });
  });
  test('IPv6 in brackets, brackets removed', () => {
    assert.deepEqual(parseHostHeader('[::1]:6080'), { hostname: '::1', port: 6080 });
    assert.deepEqual(parseHostHeader('[2001:DB8::1]:443'), { hostname: '2001:db8::1', port: 443 });
  });
  test('surrounding whitespace is ignored', () => {
    assert.deepEqual(parseHostHeader(' h:1 '), { hostname: 'h', port: 1 });
  });
  test('malformed values → undefined', () => {
    for (const bad of ['', 'a:b:c', '::1', '[::1', 'h:', 'h:port', 'h:123456', '[::1]x', '[zz]:80']) {
      assert.equal(parseHostHeader(bad), undefined, bad);
    }
  });
});

describe('isOriginAllowed', () => {
  test('no Origin (not a browser) → allowed', () => {
    assert.equal(isOriginAllowed(undefined, 'h:6080', false, []), true);
    assert.equal(isOriginAllowed(undefined, undefined, false, []), true);
  });
  test('same host and port → allowed', () => {
    assert.equal(isOriginAllowed('http://h:6080', 'h:6080', false, []), true);
    assert.equal(isOriginAllowed('https://h:6080', 'h:6080', true, []), true);
    // One port serves both: an http:// page on the same host:port may open wss://.
    assert.equal(isOriginAllowed('http://h:6080', 'h:6080', true, []), true);
  });
  test('a different port → refused, including an omitted default port', () => {
    assert.equal(isOriginAllowed('http://localhost:6080', 'localhost', false, []), false);
    assert.equal(isOriginAllowed('http://h:6081', 'h:6080', false, []), false);
    assert.equal(isOriginAllowed('https://h', 'h', false, []), false); // 443 page, 80 server
  });
  test('default ports on either side', () => {
    assert.equal(isOriginAllowed('https://h', 'h', true, []), true);
    assert.equal(isOriginAllowed('https://h:443', 'h', true, []), true);
    assert.equal(isOriginAllowed('https://h', 'h:443', false, []), true);
    assert.equal(isOriginAllowed('http://h', 'h:80', false, []), true);
    assert.equal(isOriginAllowed('http://h', 'h', false, []), true);
  });
  test('a different host → refused', () => {
    assert.equal(isOriginAllowed('https://evil.example', 'h:6080', false, []), false);
    assert.equal(isOriginAllowed('http://evil.example:6080', 'h:6080', false, []), false);
    assert.equal(isOriginAllowed('http://h.evil.example:6080', 'h:6080', false, []), false);
  });
  test('no or unparsable Host → only the allow list can admit a page', () => {
    assert.equal(isOriginAllowed('https://evil.example', undefined, false, []), false);
    assert.equal(isOriginAllowed('http://h:6080', 'a:b:c', false, []), false);
    assert.equal(isOriginAllowed('https://app.example', undefined, false, ['https://app.example']), true);
  });
  test("'null' → refused unless allow holds 'null'", () => {
    assert.equal(isOriginAllowed('null', 'h:6080', false, []), false);
    assert.equal(isOriginAllowed('null', 'h:6080', false, ['https://app.example']), false);
    assert.equal(isOriginAllowed('null', 'h:6080', false, ['null']), true);
    assert.equal(isOriginAllowed('NULL', 'h:6080', false, ['null']), true);
  });
  test('allow list: exact match of the normalised origin', () => {
    assert.equal(isOriginAllowed('https://app.example', 'h:6080', false, ['https://app.example']), true);
    assert.equal(isOriginAllowed('HTTPS://App.Example:443', 'h:6080', false, ['https://app.example']), true);
    assert.equal(isOriginAllowed('https://app.example:8443', 'h:6080', false, ['https://app.example']), false);
    assert.equal(isOriginAllowed('http://app.example', 'h:6080', false, ['https://app.example']), false);
    assert.equal(isOriginAllowed('https://evil.app.example', 'h:6080', false, ['https://app.example']), false);
  });
  test("'*' allows every origin", () => {
    assert.equal(isOriginAllowed('https://evil.example', 'h:6080', false, ['*']), true);
    assert.equal(isOriginAllowed('null', 'h:6080', false, ['*']), true);
  });
  test('host names compare case-insensitively', () => {
    assert.equal(isOriginAllowed('http://H:6080', 'h:6080', false, []), true);
    assert.equal(isOriginAllowed('http://h:6080', 'H:6080', false, []), true);
  });
  test('IPv6 literals', () => {
    assert.equal(isOriginAllowed('http://[::1]:6080', '[::1]:6080', false, []), true);
    assert.equal(isOriginAllowed('http://[::1]:6080', '[::2]:6080', false, []), false);
    assert.equal(isOriginAllowed('http://[::1]:6081', '[::1]:6080', false, []), false);
  });
  test('garbage Origin → refused', () => {
    for (const bad of ['::garbage', 'h:6080', '', 'http://', 'not an origin']) {
      assert.equal(isOriginAllowed(bad, 'h:6080', false, []), false, JSON.stringify(bad));
    }
  });
});
