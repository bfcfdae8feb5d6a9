// The operations flags on the real daemon: a bad one is one line and exit 2; good ones take effect end to end.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  runCli,
  exchange,
  spawnDaemon,
  startTarget,
  statusFor,
  statusOf,
  upgradeRequest,
  waitFor,
} from '../../helpers/proxy.js';

describe('operations flags on the daemon', () => {
  test('--proxy-protocol-in without --trusted-proxy: one line, exit 2', () => {
    const r = runCli(['--proxy-protocol-in', '6080', 'localhost:5900'], { timeoutMs: 10_000 });
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
    assert.match(r.stderr, /--proxy-protocol-in needs --trusted-proxy/);
  });

  test('--proxy-protocol-out v1, --allowed-host and --allow-target together', async () => {
    const got: string[] = [];
    const target = await startTarget((s) => s.on('data', (d: Buffer) => got.push(d.toString('latin1'))));
    const d = await spawnDaemon([
      '--proxy-protocol-out',
      'v1',
      '--allowed-host',
      '127.0.0.1',
      '--allow-target',
      `127.0.0.1:${target.port}`,
      '127.0.0.1:0',
      `127.0.0.1:${target.port}`,
    ]);
    try {
      assert.equal(statusOf(await exchange(d.port, upgradeRequest('/websockify', {}, 'evil.test'))), 421);
      assert.equal(await statusFor(d.port, upgradeRequest()), 101);
      await waitFor(() => got.join('').includes('\r\n'), 5_000, 'the PROXY line');
      assert.match(got.join(''), new RegExp(`^PROXY TCP4 127\\.0\\.0\\.1 127\\.0\\.0\\.1 \\d+ ${d.port}\\r\\n`));
    } finally {
      await d.stop('SIGKILL');
      await target.close();
    }
  });
});
