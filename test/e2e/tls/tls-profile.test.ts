// TLS profiles with real handshakes (tls-and-security.md §5 T9/T12): node TLS clients force one suite, version or
// group at a time, against an RSA certificate (with an ECDSA one static-RSA could not be offered at all).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { TlsOptionsConfig } from '../../../src/config/types.js';
import { testPki, type TestPki } from '../../helpers/pki.js';
import { exchange, startEchoTarget, startProxy, type TestProxy, type TestTarget } from '../../helpers/proxy.js';

const execFileAsync = promisify(execFile);

let pki: TestPki;
let target: TestTarget;

before(async () => {
  pki = testPki();
  target = await startEchoTarget();
});
after(async () => {
  await target?.close();
});

function options(over: Partial<TlsOptionsConfig> = {}): TlsOptionsConfig {
  return {
    profile: 'intermediate',
    minVersion: undefined,
    ciphers: undefined,
    tls13Ciphers: undefined,
    ecdhCurve: undefined,
    dhparamFile: undefined,
    chainFile: undefined,
    hstsSeconds: 0,
    sessionTickets: true,
    ticketRotateMs: 86_400_000,
    watchFiles: false,
    ...over,
  };
}

function proxyWith(over: Partial<TlsOptionsConfig> = {}, certFile = pki.rsaServerPem): Promise<TestProxy> {
  return startProxy(target.port, { tls: { certFile, options: options(over) } });
}

type Result =
  | {
      ok: true;
      cipher: string;
      version: string;
      reused: boolean;
      session: Buffer | undefined;
      ticket: Buffer | undefined;
    }
  | { ok: false; error: string };

/** One real handshake with forced client options; the session is kept until the server's ticket arrived. */
async function handshake(port: number, opts: ConnectionOptions): Promise<Result> {
  const socket: TLSSocket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca: pki.ca, ...opts });
  let session: Buffer | undefined;
  socket.on('session', (s: Buffer) => (session = s));
  try {
    await Promise.race([
      once(socket, 'secureConnect'),
      once(socket, 'close').then(() => {
        throw new Error('closed during the handshake');
      }),
    ]);
  } catch (err) {
    socket.destroy();
    return { ok: false, error: (err as Error).message };
  }
  const cipher = socket.getCipher().standardName;
  const version = socket.getProtocol() ?? '';
  // Read while the connection is up: after 'close' Node answers null/undefined.
  const reused = socket.isSessionReused();
  const ticket = socket.getTLSTicket();
  // An HTTP round trip: the server's tickets (TLS 1.3 sends them after the handshake) are in by its end.
  socket.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  socket.resume();
  await once(socket, 'close');
  return { ok: true, cipher, version, reused, session, ticket };
}

describe('default profile (intermediate)', () => {
  test('no static-RSA, no CBC, no DHE, nothing below TLS 1.2; ECDHE+AEAD and TLS 1.3 work', async () => {
    const proxy = await proxyWith();
    try {
      for (const ciphers of [
        'AES128-GCM-SHA256', // static RSA key exchange, AEAD
        'AES256-GCM-SHA384',
        'AES128-SHA', // static RSA, CBC
        'AES256-SHA256',
        'ECDHE-RSA-AES128-SHA', // forward secret but CBC
        'ECDHE-RSA-AES256-SHA384',
        'DHE-RSA-AES128-GCM-SHA256', // DHE without --dhparam
        'AES128-CCM', // static RSA, CCM
      ]) {
        const r = await handshake(proxy.port, { ciphers, maxVersion: 'TLSv1.2' });
        assert.equal(r.ok, false, `${ciphers} must be refused`);
      }
      const old = await handshake(proxy.port, {
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.1',
        ciphers: 'DEFAULT@SECLEVEL=0',
      });
      assert.equal(old.ok, false, 'TLS 1.1');
      for (const ciphers of [
        'ECDHE-RSA-AES128-GCM-SHA256',
        'ECDHE-RSA-AES256-GCM-SHA384',
        'ECDHE-RSA-CHACHA20-POLY1305',
      ]) {
        const r = await handshake(proxy.port, { ciphers, maxVersion: 'TLSv1.2' });
        assert.ok(r.ok && r.version === 'TLSv1.2', `${ciphers} accepted`);
      }
      const v13 = await handshake(proxy.port, {});
      assert.ok(v13.ok && v13.version === 'TLSv1.3');
      // Groups: X25519, P-256, P-384 only.
      assert.equal((await handshake(proxy.port, { ecdhCurve: 'P-521' })).ok, false, 'P-521 refused');
      assert.equal((await handshake(proxy.port, { ecdhCurve: 'X448' })).ok, false, 'X448 refused');
      assert.ok((await handshake(proxy.port, { ecdhCurve: 'P-384' })).ok);
      // The server still serves after all of this.
      assert.match(
        await exchange(proxy.port, 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n', {
          tls: true,
          ca: pki.ca,
        }),
        /^HTTP\/1.1 200/,
      );
    } finally {
      await proxy.close();
    }
  });
});

describe('--tls-profile modern and the cipher flags', () => {
  test('modern accepts only TLS 1.3', async () => {
    const proxy = await proxyWith({ profile: 'modern' });
    try {
      for (const ciphers of ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-CHACHA20-POLY1305']) {
        assert.equal((await handshake(proxy.port, { ciphers, maxVersion: 'TLSv1.2' })).ok, false, `TLS 1.2 ${ciphers}`);
      }
      for (const suite of ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']) {
        const r = await handshake(proxy.port, { ciphers: suite });
        assert.ok(r.ok && r.version === 'TLSv1.3' && r.cipher === suite, suite);
      }
    } finally {
      await proxy.close();
    }
  });

  test('--ssl-ciphers, --tls13-ciphers, --ecdh-curve and --ssl-version narrow what is accepted', async () => {
    const proxy = await proxyWith({
      ciphers: 'ECDHE-RSA-AES256-GCM-SHA384',
      tls13Ciphers: 'TLS_CHACHA20_POLY1305_SHA256',
      ecdhCurve: 'P-384',
    });
    try {
      assert.equal(
        (await handshake(proxy.port, { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' })).ok,
        false,
      );
      const r12 = await handshake(proxy.port, {
        ciphers: 'ECDHE-RSA-AES256-GCM-SHA384',
        maxVersion: 'TLSv1.2',
        ecdhCurve: 'P-384',
      });
      assert.ok(r12.ok && r12.cipher === 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', JSON.stringify(r12));
      assert.equal((await handshake(proxy.port, { ciphers: 'TLS_AES_128_GCM_SHA256' })).ok, false);
      const r13 = await handshake(proxy.port, { ecdhCurve: 'P-384' });
      assert.ok(r13.ok && r13.cipher === 'TLS_CHACHA20_POLY1305_SHA256', JSON.stringify(r13));
      assert.equal((await handshake(proxy.port, { ecdhCurve: 'X25519' })).ok, false, 'X25519 not offered');
    } finally {
      await proxy.close();
    }
    const v13 = await proxyWith({ minVersion: 'TLSv1.3' });
    try {
      assert.equal(
        (await handshake(v13.port, { maxVersion: 'TLSv1.2' })).ok,
        false,
        '--ssl-version tlsv1_3 refuses TLS 1.2',
      );
      assert.ok((await handshake(v13.port, {})).ok);
    } finally {
      await v13.close();
    }
  });

  test('--dhparam enables DHE suites', async () => {
    const proxy = await proxyWith({ dhparamFile: pki.dhparamFile });
    try {
      const r = await handshake(proxy.port, { ciphers: 'DHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' });
      assert.ok(r.ok && r.cipher === 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', JSON.stringify(r));
      assert.equal(
        (await handshake(proxy.port, { ciphers: 'AES128-GCM-SHA256', maxVersion: 'TLSv1.2' })).ok,
        false,
        'still no static RSA',
      );
    } finally {
      await proxy.close();
    }
  });

  test('--chain sends the intermediate certificates after the leaf', async () => {
    // The CA certificate stands in for an intermediate here: what matters is what goes over the wire, which
    // `openssl s_client -showcerts` prints (a Node client would fill the chain in from its own trust store).
    const sent = async (chainFile: string | undefined): Promise<number> => {
      const proxy = await proxyWith({ chainFile }, pki.serverPem);
      try {
        const run = execFileAsync(
          'openssl',
          [
            's_client',
            '-connect',
            `127.0.0.1:${proxy.port}`,
            '-servername',
            'localhost',
            '-CAfile',
            pki.caFile,
            '-verify_return_error',
            '-showcerts',
          ],
          { timeout: 10_000 },
        );
        run.child.stdin?.end(); // s_client quits at the end of its input
        const { stdout } = await run;
        assert.match(stdout, /Verify return code: 0 \(ok\)/);
        return stdout.split('-----BEGIN CERTIFICATE-----').length - 1;
      } finally {
        await proxy.close();
      }
    };
    assert.equal(await sent(undefined), 1);
    assert.equal(await sent(pki.caFile), 2);
  });
});

describe('HSTS and session tickets', () => {
  test('HSTS only when set, and only on https responses', async () => {
    const request = 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';
    const off = await proxyWith();
    try {
      assert.doesNotMatch(await exchange(off.port, request, { tls: true, ca: pki.ca }), /strict-transport-security/i);
    } finally {
      await off.close();
    }
    const on = await proxyWith({ hstsSeconds: 600 });
    try {
      assert.match(
        await exchange(on.port, request, { tls: true, ca: pki.ca }),
        /\r\nStrict-Transport-Security: max-age=600\r\n/i,
      );
      assert.doesNotMatch(await exchange(on.port, request), /strict-transport-security/i);
    } finally {
      await on.close();
    }
  });

  test('tickets resume sessions until a reload rotates the keys; --no-session-tickets issues none', async () => {
    const proxy = await proxyWith();
    try {
      const first = await handshake(proxy.port, { maxVersion: 'TLSv1.2' });
      assert.ok(first.ok && first.ticket !== undefined && first.session !== undefined, 'a ticket was issued');
      const again = await handshake(proxy.port, { maxVersion: 'TLSv1.2', session: first.session });
      assert.ok(again.ok && again.reused, 'resumed with the ticket');
      assert.equal(await proxy.server.reloadTls('test'), true);
      const rotated = await handshake(proxy.port, { maxVersion: 'TLSv1.2', session: first.session });
      assert.ok(rotated.ok && !rotated.reused, 'old ticket no longer resumes after rotation');
    } finally {
      await proxy.close();
    }
    const none = await proxyWith({ sessionTickets: false });
    try {
      const r = await handshake(none.port, { maxVersion: 'TLSv1.2' });
      assert.ok(r.ok && r.ticket === undefined, 'no ticket');
    } finally {
      await none.close();
    }
  });
});
