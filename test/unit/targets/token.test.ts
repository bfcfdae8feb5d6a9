import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalTokenPlugin } from '../../../src/targets/registry.js';
import { extractToken, hostForLog, pathForLog, tokenHash } from '../../../src/targets/token.js';
import { parseTargetValue, parseTokenLine } from '../../../src/targets/token-line.js';

describe('extractToken', () => {
  test('?token= on any path (noVNC puts it inside its path setting)', () => {
    assert.equal(extractToken('/websockify?token=abc', undefined, 'query'), 'abc');
    assert.equal(extractToken('/a/b/websockify?x=1&token=t%2Fk', undefined, 'query'), 't/k');
    assert.equal(extractToken('/?token=abc%0A', undefined, 'query'), 'abc');
    assert.equal(extractToken('/websockify', undefined, 'query'), undefined);
    assert.equal(extractToken('/websockify?token=', undefined, 'query'), undefined);
  });
  test('Host header without port, IPv6 safe', () => {
    assert.equal(extractToken('/', 'vm1.example.com:6080', 'host'), 'vm1.example.com');
    assert.equal(extractToken('/', '[2001:db8::1]:6080', 'host'), '2001:db8::1');
    assert.equal(extractToken('/', 'plain', 'host'), 'plain');
    assert.equal(extractToken('/', undefined, 'host'), undefined);
    assert.equal(extractToken('/', ':6080', 'host'), undefined);
  });
  test('last path segment', () => {
    assert.equal(extractToken('/vnc/abc123?x=1', undefined, 'path'), 'abc123');
    assert.equal(extractToken('/vnc/a%20b/', undefined, 'path'), 'a b');
    assert.equal(extractToken('/', undefined, 'path'), undefined);
    assert.equal(extractToken('/%E0%A4%A', undefined, 'path'), undefined);
  });
  test('tokenHash is short, stable and not the token', () => {
    assert.equal(tokenHash('secret'), tokenHash('secret'));
    assert.equal(tokenHash('secret').length, 12);
    assert.notEqual(tokenHash('secret'), tokenHash('secreT'));
    assert.ok(!tokenHash('secret').includes('secret'));
  });
});

describe('hostForLog', () => {
  test('--host-token: the host name (the token) becomes ***, the port stays', () => {
    assert.equal(hostForLog('s3cret.vnc.example:6080', 'host'), '***:6080');
    assert.equal(hostForLog('s3cret', 'host'), '***');
    assert.equal(hostForLog('[fd00::1]:6080', 'host'), '***:6080');
    assert.equal(hostForLog('', 'host'), '');
  });
  test('other token sources: unchanged', () => {
    assert.equal(hostForLog('vnc.example:6080', 'query'), 'vnc.example:6080');
    assert.equal(hostForLog('vnc.example', 'path'), 'vnc.example');
  });
});

describe('pathForLog', () => {
  test('--token-from-path: the last segment (the token) becomes ***, the query and trailing slashes stay', () => {
    assert.equal(pathForLog('/websockify/s3cret', 'path'), '/websockify/***');
    assert.equal(pathForLog('/s3cret/?x=1', 'path'), '/***/?x=1');
    assert.equal(pathForLog('s3cret', 'path'), '***');
    assert.equal(pathForLog('/', 'path'), '/');
    assert.equal(pathForLog('', 'path'), '');
  });
  test('other token sources: unchanged', () => {
    assert.equal(pathForLog('/websockify/x?token=t', 'query'), '/websockify/x?token=t');
    assert.equal(pathForLog('/websockify/x', 'host'), '/websockify/x');
  });
});

describe('token file lines (websockify format)', () => {
  const entry = (line: string): unknown => {
    const r = parseTokenLine(line);
    return r.kind === 'entry' ? { token: r.token, target: r.target } : r.kind;
  };
  test('entries', () => {
    assert.deepEqual(entry('vm1: 192.0.2.10:5900'), {
      token: 'vm1',
      target: { kind: 'tcp', host: '192.0.2.10', port: 5900 },
    });
    assert.deepEqual(entry('vm2:\thost.example:5901'), {
      token: 'vm2',
      target: { kind: 'tcp', host: 'host.example', port: 5901 },
    });
    assert.deepEqual(entry('v6: [2001:db8::1]:5900'), {
      token: 'v6',
      target: { kind: 'tcp', host: '2001:db8::1', port: 5900 },
    });
    assert.deepEqual(entry('v6b: 2001:db8::1:5900'), {
      token: 'v6b',
      target: { kind: 'tcp', host: '2001:db8::1', port: 5900 },
    });
    assert.deepEqual(entry('sock: unix_socket:/run/vnc.sock'), {
      token: 'sock',
      target: { kind: 'unix', path: '/run/vnc.sock' },
    });
    assert.deepEqual(entry('  padded :  h:1  '), { token: 'padded', target: { kind: 'tcp', host: 'h', port: 1 } });
  });
  test('comments and blank lines are skipped silently', () => {
    assert.equal(entry(''), 'skip');
    assert.equal(entry('   '), 'skip');
    assert.equal(entry('# vm1: h:1'), 'skip');
  });
  test('errors say what is wrong without the token', () => {
    for (const bad of ['vm1:h:5900', 'vm1: h', 'vm1: h:99999', ': h:1', 'vm1: unix_socket:relative', 'vm1: a:b:5900']) {
      const r = parseTokenLine(bad);
      assert.equal(r.kind, 'error', bad);
      if (r.kind === 'error') assert.ok(!r.problem.includes('vm1'), r.problem);
    }
    assert.equal(typeof parseTargetValue('[::1'), 'string');
  });
});

describe('plugin names', () => {
  test('websockify spellings are accepted (config and registry share the list: unit/targets/registry.test.ts)', () => {
    assert.equal(canonicalTokenPlugin('websockify.token_plugins.TokenFile'), 'TokenFile');
    assert.equal(canonicalTokenPlugin('readonlytokenfile'), 'ReadOnlyTokenFile');
    assert.equal(canonicalTokenPlugin('Nope'), undefined);
    // The module path is case-sensitive, as in Python; only the class name ignores case.
    assert.equal(canonicalTokenPlugin('websockify.token_plugins.tokenfile'), 'TokenFile');
    assert.equal(canonicalTokenPlugin('Websockify.token_plugins.TokenFile'), undefined);
  });
});
