// Hot reload (tls-and-security.md §5 T13) against the real daemon: replace the files, SIGHUP or let the watch see
// it; new handshakes get the new certificate (compared by fingerprint) or CRL while an open session keeps relaying;
// a broken replacement keeps the old context and says why.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import type WebSocket from 'ws';
import { issue, revoke, testPki, type ClientPair, type TestPki } from '../../helpers/pki.js';
import { openWs, spawnDaemon, startEchoTarget, waitFor, type Daemon, type TestTarget } from '../../helpers/proxy.js';

let pki: TestPki;
let target: TestTarget;

before(async () => {
  pki = testPki();
  target = await startEchoTarget();
});
after(async () => {
  await target?.close();
});

function fingerprintOf(pemFile: string): string {
  return new X509Certificate(readFileSync(pemFile)).fingerprint256;
}

/** The fingerprint a new TLS client sees (verified against the test CA). */
async function servedFingerprint(port: number): Promise<string> {
  const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca: pki.ca });
  socket.on('error', () => {});
  await once(socket, 'secureConnect');
  const fp = socket.getPeerX509Certificate()?.fingerprint256 ?? '';
  socket.destroy();
  return fp;
}

async function echoes(ws: WebSocket, text: string): Promise<void> {
  ws.send(Buffer.from(text));
  const [data] = (await once(ws, 'message')) as [Buffer];
  assert.equal(data.toString(), text);
}

/** Replaces `file` atomically, as certbot and editors do (write elsewhere, rename over). */
function replace(file: string, content: string | Buffer): void {
  const tmp = `${file}.new`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, file);
}

function count(d: Daemon, pattern: RegExp): number {
  return d
    .stderr()
    .split('\n')
    .filter((l) => pattern.test(l)).length;
}

describe('TLS reload', () => {
  test('SIGHUP: new handshakes see the new certificate, an open session keeps relaying, a broken file keeps the old one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-reload-'));
    const cert = join(dir, 'cert.pem');
    copyFileSync(pki.altServerPems[0], cert);
    const d = await spawnDaemon(['--cert', cert, '--no-watch-certs', '127.0.0.1:0', `127.0.0.1:${target.port}`]);
    try {
      const first = fingerprintOf(pki.altServerPems[0]);
      const second = fingerprintOf(pki.altServerPems[1]);
      assert.notEqual(first, second);
      assert.equal(await servedFingerprint(d.port), first);
      const ws = await openWs(`wss://127.0.0.1:${d.port}/websockify`, { ca: pki.ca });
      await echoes(ws, 'before');

      replace(cert, readFileSync(pki.altServerPems[1]));
      d.proc.kill('SIGHUP');
      await waitFor(() => count(d, /configuration reloaded why=SIGHUP/) === 1, 5_000, 'reload line');
      assert.match(
        d.stderr(),
        new RegExp(`configuration reloaded why=SIGHUP certificate_sha256=${second} changed=none`),
      );
      assert.equal(await servedFingerprint(d.port), second);
      await echoes(ws, 'after the reload');

      // A broken replacement (a key that does not belong to the certificate): the old context stays.
      const [leaf] = readFileSync(pki.altServerPems[0], 'utf8').split(/(?<=-----END CERTIFICATE-----\n)/);
      const [, otherKey] = readFileSync(pki.altServerPems[1], 'utf8').split(/(?<=-----END CERTIFICATE-----\n)/);
      replace(cert, `${leaf ?? ''}${otherKey ?? ''}`);
      d.proc.kill('SIGHUP');
      await waitFor(
        () =>
          count(
            d,
            /configuration reload refused; the running configuration stays in use .*reason=CERTIFICATE_UNUSABLE/,
          ) === 1,
        5_000,
        'failure line',
      );
      assert.match(d.stderr(), /does not belong to the certificate/);
      assert.equal(await servedFingerprint(d.port), second);
      await echoes(ws, 'still relaying');
      replace(cert, 'not a certificate at all');
      d.proc.kill('SIGHUP');
      await waitFor(() => count(d, /configuration reload refused/) === 2, 5_000, 'second failure line');
      assert.equal(await servedFingerprint(d.port), second);
      await echoes(ws, 'and still');
      ws.close();
      assert.equal(d.proc.exitCode, null, 'daemon alive');
    } finally {
      assert.equal(await d.stop(), 0);
    }
  });

  test('the file watch reloads a replaced certificate without a signal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-watch-'));
    const cert = join(dir, 'cert.pem');
    copyFileSync(pki.altServerPems[0], cert);
    const d = await spawnDaemon(['--cert', cert, '127.0.0.1:0', `127.0.0.1:${target.port}`]);
    try {
      assert.equal(await servedFingerprint(d.port), fingerprintOf(pki.altServerPems[0]));
      replace(cert, readFileSync(pki.altServerPems[1]));
      await waitFor(() => count(d, /TLS reloaded why="?file changed/) >= 1, 10_000, 'watch reload line');
      assert.equal(await servedFingerprint(d.port), fingerprintOf(pki.altServerPems[1]));
    } finally {
      assert.equal(await d.stop(), 0);
    }
  });

  test('a new CRL applies to new handshakes; the revoked client’s open session is not cut by the reload', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-crl-'));
    const crl = join(dir, 'ca.crl');
    copyFileSync(pki.crlFile, crl);
    const erin: ClientPair = issue(pki.caConfig, join(pki.dir, 'ca'), 'erin', { cn: 'erin' });
    const d = await spawnDaemon([
      '--cert',
      pki.serverPem,
      '--verify-client',
      'required',
      '--cafile',
      pki.caFile,
      '--crl',
      crl,
      '--no-watch-certs',
      '127.0.0.1:0',
      `127.0.0.1:${target.port}`,
    ]);
    try {
      const tlsOptions = { ca: pki.ca, cert: erin.cert, key: erin.key };
      const ws = await openWs(`wss://127.0.0.1:${d.port}/websockify`, tlsOptions);
      await echoes(ws, 'erin');
      const fresh = join(dir, 'fresh.crl');
      revoke(pki.caConfig, erin.certFile, fresh);
      replace(crl, readFileSync(fresh));
      d.proc.kill('SIGHUP');
      await waitFor(() => count(d, /configuration reloaded why=SIGHUP/) === 1, 5_000, 'reload line');
      await assert.rejects(openWs(`wss://127.0.0.1:${d.port}/websockify`, tlsOptions));
      await waitFor(
        () => /reason=TLS_CLIENT_CERT_REJECTED.*verify_error=CERT_REVOKED/.test(d.stderr()),
        5_000,
        'refusal line',
      );
      await echoes(ws, 'erin keeps her session');
      // Another client of the same CA is fine.
      const alice = await openWs(`wss://127.0.0.1:${d.port}/websockify`, {
        ca: pki.ca,
        cert: pki.clients.good.cert,
        key: pki.clients.good.key,
      });
      await echoes(alice, 'alice');
      alice.close();
      ws.close();
    } finally {
      assert.equal(await d.stop(), 0);
    }
  });
});
