import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { describe, test } from 'node:test';
import {
  ConfigError, defaultStateDir, normaliseOrigin, parseListenAddress, parseSeconds, parseSize, parseTargetAddress, resolveConfig,
  splitHostPort, type CliArgs,
} from '../../src/config.js';

function args(over: Partial<CliArgs> = {}): CliArgs {
  return {
    positionals: ['6080', 'localhost:5900'], cert: undefined, key: undefined, keyPassword: undefined, sslOnly: false,
    web: undefined, fileOnly: false, verbose: false, demo: false, stateDir: undefined, allowOrigin: [],
    handshakeTimeout: '10', connectTimeout: '10', maxMessageSize: '16MiB', maxConnections: '10000',
    maxConnectionsPerIp: '256', highWaterMark: '64KiB', shutdownTimeout: '10', logFormat: 'text', ...over,
  };
}

function configError(fn: () => unknown, flag: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.flag, flag);
    assert.doesNotMatch(err.message, /\n/);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('listen and target addresses (websockify forms)', () => {
  test('listen forms', () => {
    assert.deepEqual(parseListenAddress('6080'), { kind: 'tcp', host: undefined, port: 6080 });
    assert.deepEqual(parseListenAddress('127.0.0.1:6080'), { kind: 'tcp', host: '127.0.0.1', port: 6080 });
    assert.deepEqual(parseListenAddress('[::1]:6080'), { kind: 'tcp', host: '::1', port: 6080 });
    assert.deepEqual(parseListenAddress('::1:6080'), { kind: 'tcp', host: '::1', port: 6080 });
    assert.deepEqual(parseListenAddress('localhost:0'), { kind: 'tcp', host: 'localhost', port: 0 });
  });
  test('target forms', () => {
    assert.deepEqual(parseTargetAddress('[2001:db8::1]:5900'), { kind: 'tcp', host: '2001:db8::1', port: 5900 });
    assert.deepEqual(parseTargetAddress('vnc.example:5901'), { kind: 'tcp', host: 'vnc.example', port: 5901 });
    assert.deepEqual(parseTargetAddress('unix:/run/x.sock'), { kind: 'unix', path: '/run/x.sock' });
    assert.deepEqual(splitHostPort('[::1'), { host: '[::1', port: '' });
  });
  test('bad addresses name the argument', () => {
    configError(() => parseListenAddress('70000'), 'source_port', /out of range/);
    configError(() => parseListenAddress('abc'), 'source_port', /not a port/);
    configError(() => parseListenAddress(':6080'), 'source_port', /empty host/);
    configError(() => parseTargetAddress('localhost'), 'target', /host and a port/);
    configError(() => parseTargetAddress('localhost:0'), 'target', /out of range/);
    configError(() => parseTargetAddress('a:b:5900'), 'target', /not an IPv6 address/);
    configError(() => parseTargetAddress('unix:run/x.sock'), 'target', /absolute/);
  });
});

describe('values', () => {
  test('sizes', () => {
    assert.equal(parseSize('65536', 'x'), 65536);
    assert.equal(parseSize('64KiB', 'x'), 65536);
    assert.equal(parseSize('16m', 'x'), 16 * 1024 * 1024);
    assert.equal(parseSize('1G', 'x'), 1024 ** 3);
    assert.equal(parseSize('1.5k', 'x'), 1536);
    configError(() => parseSize('10XB', '--max-message-size'), '--max-message-size', /not a size/);
    configError(() => parseSize('0', '--high-water-mark'), '--high-water-mark', /at least 1 byte/);
  });
  test('seconds', () => {
    assert.equal(parseSeconds('10', 'x'), 10_000);
    assert.equal(parseSeconds('0.25', 'x'), 250);
    assert.equal(parseSeconds('0', 'x', true), 0);
    configError(() => parseSeconds('0', '--handshake-timeout'), '--handshake-timeout', /positive/);
    configError(() => parseSeconds('10s', '--connect-timeout'), '--connect-timeout', /seconds/);
  });
  test('origins are normalised', () => {
    assert.equal(normaliseOrigin('HTTPS://Example.COM:443'), 'https://example.com');
    assert.equal(normaliseOrigin('http://a.example:8080/'), 'http://a.example:8080');
    assert.equal(normaliseOrigin('*'), '*');
    configError(() => normaliseOrigin('https://a.example/path'), '--allow-origin', /path or query/);
    configError(() => normaliseOrigin('not an origin'), '--allow-origin', /not an origin/);
  });
  test('state directory default', () => {
    assert.equal(defaultStateDir({ XDG_STATE_HOME: '/x/state', HOME: '/home/u' }), '/x/state/wsproxy');
    assert.equal(defaultStateDir({ HOME: '/home/u' }), '/home/u/.local/state/wsproxy');
  });
});

describe('resolveConfig', () => {
  test('a full valid set becomes absolute paths, milliseconds and bytes', () => {
    const web = mkdtempSync(join(tmpdir(), 'wsproxy-unit-'));
    const c = resolveConfig(args({ web, allowOrigin: ['https://a.example, https://b.example'], handshakeTimeout: '2.5' }), '/srv', {});
    assert.equal(c.webRoot, web);
    assert.ok(isAbsolute(c.tls.certFile));
    assert.equal(c.tls.certFile, '/srv/self.pem');
    assert.equal(c.tls.certGiven, false);
    assert.deepEqual(c.allowOrigins, ['https://a.example', 'https://b.example']);
    assert.equal(c.limits.handshakeTimeoutMs, 2500);
    assert.equal(c.limits.maxMessageBytes, 16 * 1024 * 1024);
    assert.equal(c.limits.highWaterMark, 65536);
    assert.deepEqual(c.targets, { kind: 'fixed', target: { kind: 'tcp', host: 'localhost', port: 5900 } });
    assert.equal(c.log.level, 'info');
  });
  test('--demo needs no target and generates a certificate unless --cert is given', () => {
    const c = resolveConfig(args({ positionals: ['6080'], demo: true }), '/srv', { HOME: '/home/u' });
    assert.deepEqual(c.targets, { kind: 'demo' });
    assert.equal(c.tls.generateIfMissing, true);
    assert.equal(c.tls.stateDir, '/home/u/.local/state/wsproxy');
    const given = resolveConfig(args({ positionals: ['6080'], demo: true, cert: 'mine.pem' }), '/srv', {});
    assert.equal(given.tls.generateIfMissing, false);
  });
  test('mistakes', () => {
    configError(() => resolveConfig(args({ positionals: [] }), '/', {}), 'source_port', /missing the listen port/);
    configError(() => resolveConfig(args({ positionals: ['6080'] }), '/', {}), 'target', /missing the target/);
    configError(() => resolveConfig(args({ positionals: ['6080', 'a:1', 'b:2'] }), '/', {}), 'target', /too many arguments/);
    configError(() => resolveConfig(args({ demo: true }), '/', {}), '--demo', /drop/);
    configError(() => resolveConfig(args({ web: '/nonexistent-wsproxy-dir' }), '/', {}), '--web', /not a directory/);
    configError(() => resolveConfig(args({ sslOnly: true, cert: '/nonexistent.pem' }), '/', {}), '--ssl-only', /make-self-signed\.sh/);
    configError(() => resolveConfig(args({ logFormat: 'yaml' }), '/', {}), '--log-format', /text, json/);
    configError(() => resolveConfig(args({ maxConnections: '0' }), '/', {}), '--max-connections', /at least 1/);
    configError(() => resolveConfig(args({ key: '/nonexistent.key' }), '/', {}), '--key', /not a readable file/);
  });
});
