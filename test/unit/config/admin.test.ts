// The admin resolver driven by fake probes: the token file's text comes from a plain object.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveAdmin } from '../../../src/config/admin.js';
import { cliArgs, configError, fakeProbes } from '../../helpers/config.js';

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
