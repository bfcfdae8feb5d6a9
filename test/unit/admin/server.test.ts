// Pure parts of the admin listener: --admin-listen / --admin-token-file / --drain-timeout parsing, the bearer
// comparison and the routes' methods.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { allowedMethods, bearerMatches } from '../../../src/admin/server.js';
import { parseAdminListen, resolveConfig } from '../../../src/config.js';
import { ConfigError } from '../../../src/errors.js';
import { cliArgs } from '../../helpers/config.js';

const args = cliArgs;

function configError(fn: () => unknown, flag: string, message: RegExp): void {
  assert.throws(
    fn,
    (err: unknown) =>
      err instanceof ConfigError && err.flag === flag && message.test(err.message) && !err.message.includes('\n'),
  );
}

describe('--admin-listen', () => {
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

describe('resolveConfig: operations options', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsproxy-admin-unit-'));

  test('defaults: no admin listener, 30 s drain', () => {
    const c = resolveConfig(args(), '/', {});
    assert.equal(c.admin, undefined);
    assert.equal(c.lifecycle?.drainTimeoutMs, 30_000);
    assert.equal(resolveConfig(args({ drainTimeout: '0' }), '/', {}).lifecycle?.drainTimeoutMs, 0);
    assert.equal(resolveConfig(args({ drainTimeout: '2.5' }), '/', {}).lifecycle?.drainTimeoutMs, 2_500);
    configError(() => resolveConfig(args({ drainTimeout: 'soon' }), '/', {}), '--drain-timeout', /seconds/);
  });

  test('the token file is read and trimmed; the token never appears in errors', () => {
    const file = join(dir, 'token');
    writeFileSync(file, 's3cr3t-admin-token\n');
    assert.deepEqual(resolveConfig(args({ adminListen: '9090', adminTokenFile: file }), '/', {}).admin, {
      listen: { kind: 'tcp', host: '127.0.0.1', port: 9090 },
      token: 's3cr3t-admin-token',
      tokenFile: file,
    });
    const spaced = join(dir, 'spaced');
    writeFileSync(spaced, 'two words-secret\n');
    assert.throws(
      () => resolveConfig(args({ adminListen: '9090', adminTokenFile: spaced }), '/', {}),
      (err: unknown) =>
        err instanceof ConfigError && err.flag === '--admin-token-file' && !err.message.includes('words-secret'),
    );
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    configError(
      () => resolveConfig(args({ adminListen: '9090', adminTokenFile: empty }), '/', {}),
      '--admin-token-file',
      /one token/,
    );
    configError(
      () => resolveConfig(args({ adminListen: '9090', adminTokenFile: join(dir, 'missing') }), '/', {}),
      '--admin-token-file',
      /ENOENT/,
    );
    configError(
      () => resolveConfig(args({ adminTokenFile: file }), '/', {}),
      '--admin-token-file',
      /needs --admin-listen/,
    );
  });
});

describe('bearerMatches', () => {
  test('only the exact token in a Bearer header matches', () => {
    assert.equal(bearerMatches('Bearer abc123', 'abc123'), true);
    assert.equal(bearerMatches('bearer abc123', 'abc123'), true);
    assert.equal(bearerMatches('Bearer abc1234', 'abc123'), false);
    assert.equal(bearerMatches('Bearer abc12', 'abc123'), false);
    assert.equal(bearerMatches('Basic abc123', 'abc123'), false);
    assert.equal(bearerMatches('abc123', 'abc123'), false);
    assert.equal(bearerMatches('Bearer ', 'abc123'), false);
    assert.equal(bearerMatches(undefined, 'abc123'), false);
  });
});

describe('allowedMethods', () => {
  test('read routes take GET and HEAD, one session DELETE, /reload POST only when the server can reload', () => {
    for (const path of ['/metrics', '/healthz', '/readyz', '/sessions'])
      assert.equal(allowedMethods(path, false), 'GET, HEAD');
    assert.equal(allowedMethods('/sessions/12', false), 'DELETE');
    assert.equal(allowedMethods('/sessions/12/x', false), undefined);
    assert.equal(allowedMethods('/reload', true), 'POST');
    assert.equal(allowedMethods('/reload', false), undefined);
    assert.equal(allowedMethods('/', true), undefined);
  });
});
