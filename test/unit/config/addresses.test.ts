import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  normaliseOrigin,
  parseAdminListen,
  parseListenAddress,
  parseTargetAddress,
} from '../../../src/config/addresses.js';
import { ConfigError } from '../../../src/errors.js';
import { configError } from '../../helpers/config.js';

// The positional listen address is called "listen address" in messages, or by its usage name.
const LISTEN = /listen address|source_port/;

describe('parseListenAddress', () => {
  test('a bare port listens on every interface (host undefined)', () => {
    const a = parseListenAddress('6080');
    assert.deepEqual(a, { kind: 'tcp', host: undefined, port: 6080 });
    assert.ok('host' in a);
    assert.equal(a.host, undefined);
  });
  test('websockify listen forms', () => {
    assert.deepEqual(parseListenAddress('127.0.0.1:6080'), { kind: 'tcp', host: '127.0.0.1', port: 6080 });
    assert.deepEqual(parseListenAddress('[::1]:6080'), { kind: 'tcp', host: '::1', port: 6080 });
    assert.deepEqual(parseListenAddress('::1:6080'), { kind: 'tcp', host: '::1', port: 6080 });
    assert.deepEqual(parseListenAddress('0.0.0.0:1'), { kind: 'tcp', host: '0.0.0.0', port: 1 });
    assert.deepEqual(parseListenAddress('65535'), { kind: 'tcp', host: undefined, port: 65535 });
  });
  test('port 0 (pick a free port) is allowed for listening', () => {
    assert.deepEqual(parseListenAddress('localhost:0'), { kind: 'tcp', host: 'localhost', port: 0 });
    assert.deepEqual(parseListenAddress('0'), { kind: 'tcp', host: undefined, port: 0 });
  });
  test('bad ports', () => {
    configError(() => parseListenAddress('70000'), 'source_port', /out of range/);
    configError(() => parseListenAddress('65536'), 'source_port', /out of range/);
    configError(() => parseListenAddress('127.0.0.1:70000'), 'source_port', /out of range/);
    configError(() => parseListenAddress('abc'), 'source_port', /not a port/);
    configError(() => parseListenAddress(''), 'source_port', /not a port/);
    configError(() => parseListenAddress('-1'), 'source_port', /not a port/);
    configError(() => parseListenAddress('60.80'), 'source_port', /not a port/);
    configError(() => parseListenAddress('localhost:'), 'source_port', /not a port/);
    configError(() => parseListenAddress('[::1]:abc'), 'source_port', /not a port/);
  });
  test('an empty host is refused', () => {
    configError(() => parseListenAddress(':6080'), 'source_port', /empty host/, LISTEN);
    configError(() => parseListenAddress('[]:6080'), 'source_port', /empty host/, LISTEN);
  });
  test('a colon host that is not IPv6 is refused', () => {
    configError(() => parseListenAddress('a:b:6080'), 'source_port', /not an IPv6 address/, LISTEN);
    configError(() => parseListenAddress('[::1]'), 'source_port', /not an IPv6 address/, LISTEN);
  });
});

describe('parseTargetAddress', () => {
  test('host:port and IPv6 forms', () => {
    assert.deepEqual(parseTargetAddress('localhost:5900'), { kind: 'tcp', host: 'localhost', port: 5900 });
    assert.deepEqual(parseTargetAddress('vnc.example:5901'), { kind: 'tcp', host: 'vnc.example', port: 5901 });
    assert.deepEqual(parseTargetAddress('10.0.0.2:5900'), { kind: 'tcp', host: '10.0.0.2', port: 5900 });
    assert.deepEqual(parseTargetAddress('[2001:db8::1]:5900'), { kind: 'tcp', host: '2001:db8::1', port: 5900 });
    assert.deepEqual(parseTargetAddress('::1:5900'), { kind: 'tcp', host: '::1', port: 5900 });
  });
  test('unix sockets', () => {
    assert.deepEqual(parseTargetAddress('unix:/run/x.sock'), { kind: 'unix', path: '/run/x.sock' });
    configError(() => parseTargetAddress('unix:run/x.sock'), 'target', /absolute/);
    configError(() => parseTargetAddress('unix:./x.sock'), 'target', /absolute/);
    configError(() => parseTargetAddress('unix:'), 'target', /absolute/);
  });
  test('a target needs a host and a port', () => {
    configError(() => parseTargetAddress('localhost'), 'target', /host and a port/);
    configError(() => parseTargetAddress('5900'), 'target', /host and a port/);
    configError(() => parseTargetAddress(':5900'), 'target', /host and a port/);
    configError(() => parseTargetAddress('localhost:'), 'target', /not a port/);
  });
  test('target ports: 0 and out-of-range are refused', () => {
    configError(() => parseTargetAddress('localhost:0'), 'target', /out of range/);
    configError(() => parseTargetAddress('localhost:70000'), 'target', /out of range/);
    configError(() => parseTargetAddress('localhost:vnc'), 'target', /not a port/);
  });
  test('an unbracketed colon host that is not IPv6 is refused, with the bracketed form as the fix', () => {
    configError(() => parseTargetAddress('a:b:5900'), 'target', /not an IPv6 address.*\[2001:db8::1\]:5900/);
    configError(() => parseTargetAddress('[a:b]:5900'), 'target', /not an IPv6 address/);
  });
});

describe('normaliseOrigin', () => {
  test('lowercases and drops default ports', () => {
    assert.equal(normaliseOrigin('HTTPS://Example.COM:443'), 'https://example.com');
    assert.equal(normaliseOrigin('http://Example.com:80'), 'http://example.com');
    assert.equal(normaliseOrigin('http://a.example:443'), 'http://a.example:443');
    assert.equal(normaliseOrigin('https://a.example:80'), 'https://a.example:80');
  });
  test('keeps other ports, accepts a bare trailing slash, trims, handles IPv6', () => {
    assert.equal(normaliseOrigin('http://a.example:8080/'), 'http://a.example:8080');
    assert.equal(normaliseOrigin('  https://a.example  '), 'https://a.example');
    assert.equal(normaliseOrigin('http://[::1]:6080'), 'http://[::1]:6080');
  });
  test("'*' and 'null' pass through", () => {
    assert.equal(normaliseOrigin('*'), '*');
    assert.equal(normaliseOrigin('null'), 'null');
  });
  test('paths, queries, fragments and user info are refused', () => {
    configError(() => normaliseOrigin('https://a.example/path'), '--allow-origin', /path or query/);
    configError(() => normaliseOrigin('https://a.example/?x=1'), '--allow-origin', /path or query/);
    configError(() => normaliseOrigin('https://a.example#x'), '--allow-origin', /path or query/);
    configError(() => normaliseOrigin('https://user@a.example'), '--allow-origin', /path or query/);
  });
  test('non-origins are refused', () => {
    configError(() => normaliseOrigin('not an origin'), '--allow-origin', /not an origin/);
    configError(() => normaliseOrigin('a.example'), '--allow-origin', /not an origin/);
    configError(() => normaliseOrigin(''), '--allow-origin', /not an origin/);
  });
});

describe('edge values found in review', () => {
  test('origins with credentials are refused', () => {
    assert.throws(() => normaliseOrigin('https://:pw@a.example'), ConfigError);
  });
});

describe('parseAdminListen', () => {
  test('a port alone listens on loopback only; host:port, [v6]:port and unix:/path', () => {
    assert.deepEqual(parseAdminListen('9090', '/'), { kind: 'tcp', host: '127.0.0.1', port: 9090 });
    assert.deepEqual(parseAdminListen('0.0.0.0:9090', '/'), { kind: 'tcp', host: '0.0.0.0', port: 9090 });
    assert.deepEqual(parseAdminListen('[::1]:0', '/'), { kind: 'tcp', host: '::1', port: 0 });
    assert.deepEqual(parseAdminListen('unix:run/admin.sock', '/srv'), { kind: 'unix', path: '/srv/run/admin.sock' });
  });

  test('malformed values name the flag', () => {
    configError(() => parseAdminListen(':9090', '/'), '--admin-listen', /host:port/);
    configError(() => parseAdminListen('unix:', '/'), '--admin-listen', /socket path/);
    configError(() => parseAdminListen('localhost:99999', '/'), '--admin-listen', /out of range/);
    configError(() => parseAdminListen('localhost:http', '/'), '--admin-listen', /not a port/);
    configError(() => parseAdminListen('fe80:zz:1:9090', '/'), '--admin-listen', /not host:port/);
  });
});
