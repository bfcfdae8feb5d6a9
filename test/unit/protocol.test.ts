import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chooseSubprotocol, isOriginAllowed, parseHostHeader, validateHandshake } from '../../src/websocket/protocol.js';

const GOOD = { upgrade: 'websocket', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' };

describe('chooseSubprotocol', () => {
  const protocolOf = (lines: string[] | undefined): string | undefined => {
    const c = chooseSubprotocol(lines);
    assert.ok(c.ok);
    return c.protocol;
  };
  const problemOf = (lines: string[]): string => {
    const c = chooseSubprotocol(lines);
    assert.ok(!c.ok);
    return c.problem.code;
  };
  test('nothing offered → no protocol (modern noVNC)', () => {
    assert.equal(protocolOf(undefined), undefined);
    assert.equal(protocolOf([]), undefined);
    assert.equal(protocolOf(['']), undefined);
  });
  test("'binary' anywhere, over every line, whitespace trimmed", () => {
    assert.equal(protocolOf(['binary']), 'binary');
    assert.equal(protocolOf(['base64, binary']), 'binary'); // websockify: 400
    assert.equal(protocolOf(['base64', 'binary']), 'binary');
    assert.equal(protocolOf(['  binary  ,chat']), 'binary');
  });
  test('only other protocols → 400 SUBPROTOCOL_UNSUPPORTED; malformed → BAD_HANDSHAKE', () => {
    assert.equal(problemOf(['chat']), 'SUBPROTOCOL_UNSUPPORTED');
    assert.equal(problemOf(['bin ary']), 'BAD_HANDSHAKE');
    assert.equal(problemOf(['a;b']), 'BAD_HANDSHAKE');
    assert.equal(problemOf(['binary, binary']), 'BAD_HANDSHAKE');
  });
});

describe('validateHandshake', () => {
  test('a good request passes', () => assert.equal(validateHandshake('GET', GOOD), undefined));
  test('each broken part has its code', () => {
    assert.equal(validateHandshake('POST', GOOD)?.code, 'METHOD_NOT_ALLOWED');
    assert.equal(validateHandshake('GET', { ...GOOD, upgrade: 'h2c' })?.code, 'BAD_HANDSHAKE');
    assert.equal(validateHandshake('GET', { ...GOOD, upgrade: undefined })?.code, 'BAD_HANDSHAKE');
    assert.equal(validateHandshake('GET', { ...GOOD, 'sec-websocket-key': 'abc' })?.code, 'BAD_HANDSHAKE');
    const old = validateHandshake('GET', { ...GOOD, 'sec-websocket-version': '12' });
    assert.equal(old?.code, 'UNSUPPORTED_VERSION');
    assert.deepEqual(old?.headers, { 'Sec-WebSocket-Version': '13' });
    assert.equal(validateHandshake('GET', { ...GOOD, 'sec-websocket-version': undefined })?.code, 'UNSUPPORTED_VERSION');
  });
});

describe('Origin policy', () => {
  test('Host header parsing', () => {
    assert.deepEqual(parseHostHeader('Example.com:6080'), { hostname: 'example.com', port: 6080 });
    assert.deepEqual(parseHostHeader('[::1]:6080'), { hostname: '::1', port: 6080 });
    assert.deepEqual(parseHostHeader('h'), { hostname: 'h', port: undefined });
    assert.equal(parseHostHeader('a:b:c'), undefined);
  });
  test('no Origin (not a browser) and the same host and port are allowed', () => {
    assert.equal(isOriginAllowed(undefined, 'h:6080', false, []), true);
    assert.equal(isOriginAllowed('http://h:6080', 'h:6080', false, []), true);
    assert.equal(isOriginAllowed('https://h:6080', 'h:6080', true, []), true);
    assert.equal(isOriginAllowed('http://h:6080', 'h:6080', true, []), true); // http page opening wss:// on the same port
    assert.equal(isOriginAllowed('https://h', 'h', true, []), true);
    assert.equal(isOriginAllowed('http://h', 'h:80', false, []), true);
    assert.equal(isOriginAllowed('http://H:6080', 'h:6080', false, []), true);
    assert.equal(isOriginAllowed('http://[::1]:6080', '[::1]:6080', false, []), true);
  });
  test('another host or port, null and garbage are refused unless allowed', () => {
    assert.equal(isOriginAllowed('http://localhost:6080', 'localhost', false, []), false);
    assert.equal(isOriginAllowed('https://evil.example', 'h:6080', false, []), false);
    assert.equal(isOriginAllowed('null', 'h:6080', false, []), false);
    assert.equal(isOriginAllowed('null', 'h:6080', false, ['null']), true);
    assert.equal(isOriginAllowed('::garbage', 'h:6080', false, []), false);
    assert.equal(isOriginAllowed('https://app.example', 'h:6080', false, ['https://app.example']), true);
    assert.equal(isOriginAllowed('https://evil.example', 'h:6080', false, ['*']), true);
    assert.equal(isOriginAllowed('https://evil.example', undefined, false, []), false);
  });
});
