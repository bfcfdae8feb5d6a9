// Deterministic regression tests for bugs the fuzz suite (test/e2e/fuzz/) found, each through real sockets.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { exchange, startEchoTarget, startProxy, statusOf, upgradeRequest } from '../../helpers/proxy.js';
import { rawConnect, rawUpgrade, untilAnswered, untilClosed } from '../../helpers/fuzz.js';

describe('fuzz finding: TokenFileName and a token longer than a file name', () => {
  test('is an unknown token (404), not a token source that is down (503)', async () => {
    const echo = await startEchoTarget();
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-names-'));
    writeFileSync(join(dir, 'vm1'), `127.0.0.1:${echo.port}\n`);
    const proxy = await startProxy(1, {
      targets: { kind: 'token', plugin: 'TokenFileName', source: dir, from: 'path' },
    });
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

describe('fuzz finding: an Expect header other than 100-continue', () => {
  test('gets 417 as a catalogued refusal (reason header, one log line), not a bare answer from Node', async () => {
    const proxy = await startProxy(1);
    try {
      const res = await exchange(
        proxy.port,
        'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: bytes=5-1\r\nConnection: close\r\n\r\n',
      );
      assert.equal(statusOf(res), 417, res.slice(0, 200));
      assert.match(res, /X-Wsproxy-Reason: EXPECTATION_FAILED/);
      assert.match(res, /Connection: close/);
      assert.equal(proxy.logs.filter((l) => l.includes('reason=EXPECTATION_FAILED')).length, 1);
      // 100-continue is still understood: the request goes on to its answer.
      const ok = await exchange(
        proxy.port,
        'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
      );
      assert.match(ok, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    } finally {
      await proxy.close();
    }
  });
});

describe('fuzz finding: an HTTP/1.1 request without Host', () => {
  test('gets 400 as a catalogued refusal (reason header, one log line), not a bare answer from Node', async () => {
    const proxy = await startProxy(1);
    try {
      const res = await exchange(proxy.port, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n');
      assert.equal(statusOf(res), 400, res.slice(0, 200));
      assert.match(res, /X-Wsproxy-Reason: BAD_REQUEST/);
      assert.match(res, /needs a Host header/);
      assert.equal(proxy.logs.filter((l) => l.includes('reason=BAD_REQUEST')).length, 1);
      // HTTP/1.0 has no Host requirement.
      assert.equal(statusOf(await exchange(proxy.port, 'GET / HTTP/1.0\r\n\r\n')), 200);
    } finally {
      await proxy.close();
    }
  });
});

describe('fuzz finding: a WebSocket upgrade without Host', () => {
  test('is refused with 400 BAD_HANDSHAKE (RFC 6455 §4.1 requires Host), not relayed', async () => {
    const echo = await startEchoTarget();
    const proxy = await startProxy(echo.port);
    try {
      const request = upgradeRequest('/websockify').replace('Host: 127.0.0.1\r\n', '');
      assert.doesNotMatch(request, /Host:/);
      const socket = await rawConnect(proxy.port);
      const answered = untilAnswered(socket, 5_000);
      socket.write(request);
      const res = (await answered).toString('latin1');
      assert.equal(statusOf(res), 400, res.slice(0, 200));
      assert.match(res, /X-Wsproxy-Reason: BAD_HANDSHAKE/);
      assert.equal(echo.sockets.length, 0, 'the target was dialled');
      (await rawUpgrade(proxy.port, '/websockify')).socket.destroy();
    } finally {
      await proxy.close();
      await echo.close();
    }
  });
});

describe('fuzz finding: slowloris on a kept-alive connection', () => {
  test('the headers of a second request that trickle in forever are cut by headersTimeout (plain and TLS)', async () => {
    const proxy = await startProxy(1, { limits: { handshakeTimeoutMs: 1_000 } });
    try {
      for (const tls of [false, true]) {
        const socket = await rawConnect(proxy.port, tls ? proxy.ca : undefined);
        const t0 = Date.now();
        const done = untilClosed(socket, 8_000);
        // The first request ends the listener's handshake deadline; only Node's headersTimeout can cut the second.
        socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
        const timer = setInterval(() => socket.write('a'), 100);
        try {
          const got = (await done).toString('latin1');
          assert.match(got, /^HTTP\/1\.1 200 /, 'the first request was answered');
        } finally {
          clearInterval(timer);
        }
        // 1 s headersTimeout, checked every second.
        assert.ok(Date.now() - t0 < 4_000, `${tls ? 'TLS' : 'plain'}: open for ${Date.now() - t0} ms`);
      }
      assert.ok(
        proxy.logs.some((l) => l.includes('reason=HANDSHAKE_TIMEOUT')),
        'no HANDSHAKE_TIMEOUT line',
      );
    } finally {
      await proxy.close();
    }
  });
});
