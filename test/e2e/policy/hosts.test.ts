// DNS rebinding (issue #12 finding 8): without --allowed-host an automatic Host list applies. A page on
// rebind.attacker.example whose name resolves to the proxy is refused 421 for pages and upgrades; IP literals,
// localhost, the machine's host name and the certificate's DNS names pass, and follow a TLS reload.
// `--allowed-host any` turns the check off.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { makeSelfSignedPem } from '../../../src/certs/self-signed.js';
import {
  runCli,
  exchange,
  spawnDaemon,
  startEchoTarget,
  startProxy,
  statusFor,
  statusOf,
  upgradeRequest,
} from '../../helpers/proxy.js';

const get = (host: string): string => `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;

describe('automatic Host allowlist (no --allowed-host)', () => {
  test('a rebinding Host gets 421 for upgrades and pages; IP, localhost, machine name and certificate names pass', async () => {
    const target = await startEchoTarget();
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-hosts-'));
    const certFile = join(dir, 'vnc.pem');
    const vncPem = await makeSelfSignedPem({ dns: ['vnc.test', '*.desk.test'], ips: ['127.0.0.1'] }, 2);
    writeFileSync(certFile, vncPem, { mode: 0o600 });
    const proxy = await startProxy(target.port, { tls: { certFile } });
    const p = proxy.port;
    try {
      const evil = `rebind.attacker.example:${p}`;
      const up = await exchange(p, upgradeRequest('/websockify', { Origin: `http://${evil}` }, evil));
      assert.equal(statusOf(up), 421);
      assert.match(up, /X-Wsproxy-Reason: HOST_NOT_ALLOWED/);
      assert.match(up, /--allowed-host/, 'the answer names the flag');
      const page = await exchange(p, get(evil));
      assert.equal(statusOf(page), 421);
      assert.match(page, /X-Wsproxy-Reason: HOST_NOT_ALLOWED/);
      assert.equal(
        statusOf(await exchange(p, get(`vnc.test.attacker.example:${p}`))),
        421,
        'a certificate name as a prefix is not enough',
      );
      assert.equal(statusOf(await exchange(p, get(`a.b.desk.test:${p}`))), 421, 'a wildcard covers one label only');
      assert.equal(target.sockets.length, 0, 'the target saw nothing');
      assert.ok(
        proxy.logs.some(
          (l) =>
            l.includes('reason=HOST_NOT_ALLOWED') && l.includes('status=421') && l.includes('rebind.attacker.example'),
        ),
      );

      for (const host of [
        `127.0.0.1:${p}`,
        `[::1]:${p}`,
        `localhost:${p}`,
        `app.localhost:${p}`,
        `${hostname()}:${p}`,
        `vnc.test:${p}`,
        `VNC.test.:${p}`,
        `x.desk.test:${p}`,
      ]) {
        assert.equal(
          await statusFor(p, upgradeRequest('/websockify', { Origin: `http://${host}` }, host)),
          101,
          `upgrade with Host ${host}`,
        );
        assert.equal(statusOf(await exchange(p, get(host))), 200, `page with Host ${host}`);
      }
      assert.equal(
        await statusFor(p, upgradeRequest('/websockify', {}, `vnc.test:${p}`), { servername: 'vnc.test', ca: vncPem }),
        101,
        'wss with the certificate name',
      );
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('the certificate names follow a TLS reload', async () => {
    const target = await startEchoTarget();
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-hosts-'));
    const certFile = join(dir, 'cert.pem');
    writeFileSync(certFile, await makeSelfSignedPem({ dns: ['vnc.test'], ips: [] }, 2), { mode: 0o600 });
    const proxy = await startProxy(target.port, { tls: { certFile } });
    try {
      assert.equal(statusOf(await exchange(proxy.port, get('vnc.test'))), 200);
      assert.equal(statusOf(await exchange(proxy.port, get('renewed.test'))), 421);
      writeFileSync(certFile, await makeSelfSignedPem({ dns: ['renewed.test'], ips: [] }, 2), { mode: 0o600 });
      assert.equal(await proxy.server.reloadTls('test'), true);
      assert.equal(statusOf(await exchange(proxy.port, get('renewed.test'))), 200);
      assert.equal(
        statusOf(await exchange(proxy.port, get('vnc.test'))),
        421,
        'the old name is gone with the old certificate',
      );
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('--allowed-host any (CLI) turns the check off; --allowed-host NAME allows only the names', async () => {
    const target = await startEchoTarget();
    const any = await spawnDaemon(['--allowed-host', 'any', '127.0.0.1:0', `127.0.0.1:${target.port}`]);
    const named = await spawnDaemon(['--allowed-host', 'vnc.example.test', '127.0.0.1:0', `127.0.0.1:${target.port}`]);
    try {
      const evil = `rebind.attacker.example:${any.port}`;
      assert.equal(await statusFor(any.port, upgradeRequest('/websockify', { Origin: `http://${evil}` }, evil)), 101);
      assert.equal(statusOf(await exchange(any.port, get(evil))), 200);
      assert.equal(statusOf(await exchange(named.port, get('vnc.example.test'))), 200);
      assert.equal(
        statusOf(await exchange(named.port, get('localhost'))),
        421,
        'an explicit list replaces the automatic one',
      );
      const both = runCli(['--allowed-host', 'any vnc.example.test', '127.0.0.1:0', '127.0.0.1:1'], {
        timeoutMs: 10_000,
      });
      assert.equal(both.status, 2);
      assert.match(
        both.stderr,
        /^wsproxy: --allowed-host: 'any' turns the Host check off and cannot be combined with names/,
      );
    } finally {
      await any.stop();
      await named.stop();
      await target.close();
    }
  });
});
