// Issue #12, finding 1: a client certificate with an unparseable date (notBefore in month 13) killed the process
// (exit 70) from the secureConnection listener, before any check. The real CLI, real TLS, a certificate made byte by
// byte; after the odd client, the daemon must still serve a good one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import {
  clientRelays,
  month13ClientCert,
  oddClientCert,
  TAG,
  testPki,
  type ClientPair,
  type TestPki,
} from '../../helpers/pki.js';
import {
  spawnDaemon,
  startEchoTarget,
  statusOf,
  upgradeRequest,
  waitFor,
  type Daemon,
  type TestTarget,
} from '../../helpers/proxy.js';

let pki: TestPki;
let target: TestTarget;

before(async () => {
  pki = testPki();
  target = await startEchoTarget();
});
after(() => target.close());

/** An upgrade over TLS presenting `client`: the status line's code, or 0 when the server closed without answering. */
async function upgradeWith(
  port: number,
  client: ClientPair,
  maxVersion: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.3',
): Promise<number> {
  const socket: TLSSocket = tlsConnect({
    host: '127.0.0.1',
    port,
    servername: 'localhost',
    ca: pki.ca,
    cert: client.cert,
    key: client.key,
    maxVersion,
  });
  socket.on('error', () => {});
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (s: string) => (text += s));
  socket.once('secureConnect', () => socket.write(upgradeRequest()));
  const timer = setTimeout(() => socket.destroy(), 5_000);
  // Not once(socket, 'close'): a reset is an 'error' first, and once() would reject on it.
  await new Promise((resolve) => socket.once('close', resolve));
  clearTimeout(timer);
  return statusOf(text);
}

async function startDaemon(mode: 'optional' | 'required'): Promise<Daemon> {
  return spawnDaemon([
    '--cert',
    pki.serverPem,
    '--verify-client',
    mode,
    '--cafile',
    pki.caFile,
    '-v',
    '127.0.0.1:0',
    `127.0.0.1:${target.port}`,
  ]);
}

for (const mode of ['optional', 'required'] as const) {
  describe(`--verify-client ${mode}: odd client certificates (month 13, undecodable SAN)`, () => {
    let daemon: Daemon;
    before(async () => {
      daemon = await startDaemon(mode);
    });
    after(() => daemon.stop());

    test('self-signed, from Node: refused as unverified (403 or closed), and the daemon serves a good client', async () => {
      const status = await upgradeWith(daemon.port, month13ClientCert());
      assert.equal(status, mode === 'optional' ? 403 : 0);
      assert.equal(daemon.proc.exitCode, null, daemon.stderr());
      await clientRelays(daemon.port, pki);
    });

    test('signed by the trusted CA: still not verified (OpenSSL rejects the date), the daemon lives', async () => {
      const odd = oddClientCert({ signedByTestCa: true, notBefore: { tag: TAG.UTC_TIME, text: '261304000000Z' } });
      assert.equal(await upgradeWith(daemon.port, odd), mode === 'optional' ? 403 : 0);
      // The refusal line says why; the unreadable date is simply left out.
      const line =
        mode === 'optional'
          ? /reason=CLIENT_CERT_REQUIRED.*client_verified=ERROR_IN_CERT_NOT_BEFORE_FIELD/
          : /reason=TLS_CLIENT_CERT_REJECTED verify_error=ERROR_IN_CERT_NOT_BEFORE_FIELD/;
      await waitFor(() => line.test(daemon.stderr()), 5_000, 'refusal logged');
      assert.equal(daemon.proc.exitCode, null, daemon.stderr());
      await clientRelays(daemon.port, pki);
    });

    test('a SAN OpenSSL cannot decode: the request still gets its answer (no OpenSSL error left queued)', async () => {
      // Found by fuzz-client-cert: reading this SAN left an error on OpenSSL's queue, which the TLS socket then
      // reported as its own at the next read, so a well-formed upgrade got 400 BAD_REQUEST (or nothing).
      const odd = oddClientCert({
        sans: [
          { tag: 0x88, value: Buffer.from([42, 3, 4]) },
          { tag: 0xa4, value: Buffer.from([0x30, 0x03, 0x31, 0x01, 0x00]) },
        ],
      });
      for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
        assert.equal(await upgradeWith(daemon.port, odd, maxVersion), mode === 'optional' ? 403 : 0, maxVersion);
      }
      assert.doesNotMatch(daemon.stderr(), /reason=BAD_REQUEST/);
      await clientRelays(daemon.port, pki);
    });

    test('from openssl s_client: the daemon lives', async () => {
      const odd = month13ClientCert();
      const keyFile = `${odd.certFile}.key`;
      (await import('node:fs')).writeFileSync(keyFile, odd.key, { mode: 0o600 });
      const run = spawnSync(
        'openssl',
        [
          's_client',
          '-connect',
          `127.0.0.1:${daemon.port}`,
          '-servername',
          'localhost',
          '-CAfile',
          pki.caFile,
          '-cert',
          odd.certFile,
          '-key',
          keyFile,
          '-quiet',
        ],
        {
          input: upgradeRequest(),
          encoding: 'latin1',
          timeout: 10_000,
        },
      );
      if (mode === 'optional') assert.match(run.stdout, /^HTTP\/1\.1 403/);
      else assert.doesNotMatch(run.stdout, /HTTP\/1\.1/);
      assert.equal(daemon.proc.exitCode, null, daemon.stderr());
      await clientRelays(daemon.port, pki);
    });
  });
}
