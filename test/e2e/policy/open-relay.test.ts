// An open relay starts, but not silently (issue #12 finding 19): a non-loopback listener with a fixed target and no
// token, auth plugin or required client certificate gets one OPEN_RELAY warning at start, and one in `wsproxy check`.
// The bind on 0.0.0.0 is allowed; the test still connects through 127.0.0.1.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli, freePort, openWs, spawnDaemon, startEchoTarget } from '../../helpers/proxy.js';

const relayLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.includes('reason=OPEN_RELAY'));

describe('open relay warning', () => {
  test('0.0.0.0 with a fixed target: one warning naming the fixes; the relay still works', async () => {
    const target = await startEchoTarget();
    const d = await spawnDaemon(['0.0.0.0:0', `127.0.0.1:${target.port}`]);
    try {
      // The warning is written before the listening line spawnDaemon waited for.
      const lines = relayLines(d.stderr());
      assert.equal(lines.length, 1, d.stderr());
      assert.match(lines[0] ?? '', /^\S+ WARN\s+open relay: .*0\.0\.0\.0:\d+ .*127\.0\.0\.1:\d+/);
      assert.match(lines[0] ?? '', /--allow-origin does not stop/);
      assert.match(lines[0] ?? '', /--token-plugin.*--auth-plugin.*--verify-client required.*127\.0\.0\.1/);
      const ws = await openWs(`ws://127.0.0.1:${d.port}/websockify`);
      ws.send(Buffer.from('hi'));
      const [echoed] = (await once(ws, 'message')) as [Buffer];
      assert.equal(echoed.toString(), 'hi');
      ws.terminate();
    } finally {
      await d.stop();
      await target.close();
    }
  });

  test('no warning on 127.0.0.1, nor on 0.0.0.0 with a token file', async () => {
    const target = await startEchoTarget();
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-relay-'));
    const tokens = join(dir, 'tokens');
    writeFileSync(tokens, `vm1: 127.0.0.1:${target.port}\n`);
    const local = await spawnDaemon(['127.0.0.1:0', `127.0.0.1:${target.port}`]);
    const withToken = await spawnDaemon(['--token-plugin', 'TokenFile', '--token-source', tokens, '0.0.0.0:0']);
    try {
      for (const d of [local, withToken]) {
        assert.match(d.stderr(), /listening address=/);
        assert.deepEqual(relayLines(d.stderr()), [], d.stderr());
        assert.doesNotMatch(d.stderr(), /open relay/);
      }
    } finally {
      await local.stop();
      await withToken.stop();
      await target.close();
    }
  });

  test('wsproxy check prints it once (warn, exit 0); not for a loopback listener', async () => {
    const target = await startEchoTarget();
    try {
      const check = (listen: string): { code: number | null; out: string } => {
        const r = runCli(['check', listen, `127.0.0.1:${target.port}`], { timeoutMs: 30_000, keepStateHome: true });
        return { code: r.status, out: r.stdout };
      };
      const open = check(`0.0.0.0:${await freePort()}`);
      assert.equal(open.code, 0, open.out);
      const lines = open.out.split('\n').filter((l) => l.includes('OPEN_RELAY'));
      assert.equal(lines.length, 1, open.out);
      assert.match(lines[0] ?? '', /^warn\s+access\s+open relay: /);
      const local = check(`127.0.0.1:${await freePort()}`);
      assert.doesNotMatch(local.out, /OPEN_RELAY|open relay/);
    } finally {
      await target.close();
    }
  });
});
