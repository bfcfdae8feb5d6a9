// Deterministic regression tests for bugs the fuzz suite (fuzz-*.test.ts) found, each through real sockets.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { exchange, startEchoTarget, startProxy, statusOf, upgradeRequest } from '../helpers/proxy.js';
import { rawUpgrade } from '../helpers/fuzz.js';

describe('fuzz finding: TokenFileName and a token longer than a file name', () => {
  test('is an unknown token (404), not a token source that is down (503)', async () => {
    const echo = await startEchoTarget();
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-names-'));
    writeFileSync(join(dir, 'vm1'), `127.0.0.1:${echo.port}\n`);
    const proxy = await startProxy(1, { targets: { kind: 'token', plugin: 'TokenFileName', source: dir, from: 'path' } });
    try {
      // 256 bytes is one more than a file name may have (NAME_MAX): the lookup fails with ENAMETOOLONG.
      for (const token of ['a'.repeat(256), 'é'.repeat(200)]) {
        const res = await exchange(proxy.port, upgradeRequest(`/websockify/${encodeURIComponent(token)}`));
        assert.equal(statusOf(res), 404, res.slice(0, 200));
        assert.match(res, /X-Wsproxy-Reason: TOKEN_UNKNOWN/);
      }
      assert.ok(!proxy.logs.some((l) => l.includes('TOKEN_SOURCE_DOWN')), 'logged as a broken token source');
      (await rawUpgrade(proxy.port, '/websockify/vm1')).socket.destroy();
    } finally {
      await proxy.close();
      await echo.close();
    }
  });
});
