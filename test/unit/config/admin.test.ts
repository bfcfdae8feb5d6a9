// The admin listener and drain options: through resolveConfig on real files, and resolveAdmin driven by fake probes
// (the token file's text comes from a plain object).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { resolveAdmin } from '../../../src/config/admin.js';
import { resolveConfig } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/errors.js';
import { cliArgs, configError, fakeProbes } from '../../helpers/config.js';

const args = cliArgs;

describe('resolveAdmin (fake probes)', () => {
  const probes = fakeProbes({ texts: { '/srv/admin.token': 'abc123\n', '/srv/two.token': 'a b' } });
  test('the token is the file text, trimmed; the file is kept for the web-secret list', () => {
    assert.deepEqual(
      resolveAdmin(cliArgs({ adminListen: '0.0.0.0:9090', adminTokenFile: 'admin.token' }), '/srv', probes),
      {
        listen: { kind: 'tcp', host: '0.0.0.0', port: 9090 },
        token: 'abc123',
        tokenFile: '/srv/admin.token',
      },
    );
    assert.equal(resolveAdmin(cliArgs(), '/srv', probes), undefined);
  });
  test('an unreadable or malformed token file, and an open address without one, are refused', () => {
    configError(
      () => resolveAdmin(cliArgs({ adminListen: '9090', adminTokenFile: 'none' }), '/srv', probes),
      '--admin-token-file',
      /^--admin-token-file: cannot read '\/srv\/none' \(ENOENT\); give a file holding the bearer token$/,
    );
    configError(
      () => resolveAdmin(cliArgs({ adminListen: '9090', adminTokenFile: 'two.token' }), '/srv', probes),
      '--admin-token-file',
      /^--admin-token-file: '\/srv\/two\.token' must hold one token \(no spaces\)/,
    );
    configError(
      () => resolveAdmin(cliArgs({ adminListen: '[::]:9090' }), '/srv', probes),
      '--admin-token-file',
      /^--admin-listen :::9090 is reachable from other machines: add --admin-token-file FILE/,
    );
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
