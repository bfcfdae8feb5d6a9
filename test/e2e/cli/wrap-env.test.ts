// Wrap mode keeps wsproxy's secrets from the wrapped program (issue #12, finding 15): a real program started after
// `--` writes the environment it got; no WSPROXY_* variable (passwords, auth source, token source, admin token file)
// is in it, while the rest of the environment still is.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, spawnDaemon, waitFor } from '../../helpers/proxy.js';

test('the wrapped program gets no WSPROXY_* variable, and the rest of the environment', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsproxy-wrap-env-'));
  const envFile = join(dir, 'env.json');
  const tokenFile = join(dir, 'admin-token');
  writeFileSync(tokenFile, 'admin-secret-0123456789\n');
  const secrets = {
    WSPROXY_AUTH_PLUGIN: 'BasicHTTPAuth',
    WSPROXY_AUTH_SOURCE: 'alice:auth-secret-password',
    WSPROXY_KEY_PASSWORD: 'key-secret-password',
    WSPROXY_ADMIN_LISTEN: '127.0.0.1:0',
    WSPROXY_ADMIN_TOKEN_FILE: tokenFile,
    WSPROXY_P12_PASSWORD: 'p12-secret-password',
    WSPROXY_DEBUG: '1',
  };
  const port = await freePort();
  const d = await spawnDaemon(
    [
      '--wrap-mode',
      'ignore',
      '--wrap-target',
      `127.0.0.1:${port}`,
      '127.0.0.1:0',
      '--',
      process.execPath,
      '-e',
      'require("fs").writeFileSync(process.argv[1], JSON.stringify(process.env))',
      envFile,
    ],
    { ...secrets, WRAP_ENV_KEPT: 'kept-value' },
  );
  try {
    await waitFor(
      () => existsSync(envFile) && readFileSync(envFile, 'utf8').endsWith('}'),
      10_000,
      'the wrapped program wrote its environment',
    );
    const env = JSON.parse(readFileSync(envFile, 'utf8')) as Record<string, string>;
    assert.deepEqual(
      Object.keys(env).filter((k) => k.toUpperCase().startsWith('WSPROXY')),
      [],
    );
    const text = JSON.stringify(env);
    for (const value of ['auth-secret-password', 'key-secret-password', 'p12-secret-password', tokenFile])
      assert.ok(!text.includes(value), `${value} not passed on`);
    assert.equal(env['WRAP_ENV_KEPT'], 'kept-value');
    assert.equal(env['PATH'], process.env['PATH']);
  } finally {
    await d.stop();
  }
});
