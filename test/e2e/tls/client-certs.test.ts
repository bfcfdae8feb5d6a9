// Client certificates (tls-and-security.md §3.2, matrix row T7): {off, optional, required} × {good, other CA, expired,
// revoked, none, CN not allowed}, each with its outcome, and after every row a fresh good client still relays (one bad
// TLS client must never stop the server: CherryPy #1155). Real TLS against an openssl-made test PKI.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import type { ClientCertConfig } from '../../../src/config/types.js';
import { testPki, type ClientPair, type TestPki } from '../../helpers/pki.js';
import {
  exchange,
  startEchoTarget,
  startProxy,
  statusOf,
  upgradeRequest,
  type TestProxy,
  type TestTarget,
} from '../../helpers/proxy.js';

type Outcome = 'relays' | 'refused' | `403 ${string}`;

/** Tries a wss:// session with `client` (or none): relays (echo comes back), a 403 with its reason, or refused. */
async function attempt(
  port: number,
  ca: string,
  client: ClientPair | undefined,
  headers: Record<string, string> = {},
): Promise<Outcome> {
  const ws = new WebSocket(`wss://127.0.0.1:${port}/websockify`, {
    ca,
    headers,
    ...(client ? { cert: client.cert, key: client.key } : {}),
  });
  return new Promise<Outcome>((resolve) => {
    let settled = false;
    const done = (o: Outcome): void => {
      if (settled) return;
      settled = true;
      ws.terminate();
      resolve(o);
    };
    ws.on('error', () => done('refused'));
    ws.on('close', () => done('refused'));
    ws.on('unexpected-response', (_req, res) => {
      const reason = res.headers['x-wsproxy-reason'];
      res.resume();
      done(`${res.statusCode ?? 0} ${typeof reason === 'string' ? reason : ''}` as Outcome);
    });
    ws.on('open', () => {
      const probe = Buffer.from(`probe-${Math.random()}`);
      ws.on('message', (data: Buffer) => done(Buffer.compare(data, probe) === 0 ? 'relays' : 'refused'));
      ws.send(probe);
    });
  });
}

const ROWS = ['good', 'otherCa', 'expired', 'revoked', 'none', 'notAllowed'] as const;

const EXPECTED: Record<'off' | 'optional' | 'required', Record<(typeof ROWS)[number], Outcome>> = {
  off: {
    good: 'relays',
    otherCa: 'relays',
    expired: 'relays',
    revoked: 'relays',
    none: 'relays',
    notAllowed: 'relays',
  },
  optional: {
    good: 'relays',
    otherCa: '403 CLIENT_CERT_REQUIRED',
    expired: '403 CLIENT_CERT_REQUIRED',
    revoked: '403 CLIENT_CERT_REQUIRED',
    none: '403 CLIENT_CERT_REQUIRED',
    notAllowed: '403 CLIENT_CERT_NOT_ALLOWED',
  },
  required: {
    good: 'relays',
    otherCa: 'refused',
    expired: 'refused',
    revoked: 'refused',
    none: 'refused',
    // A valid certificate passes the handshake; the allowlist answers each request (pages too: issue #12, finding 4).
    notAllowed: '403 CLIENT_CERT_NOT_ALLOWED',
  },
};

const VERIFY_ERRORS: Partial<Record<(typeof ROWS)[number], RegExp>> = {
  otherCa: /verify_error=(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/,
  expired: /verify_error=CERT_HAS_EXPIRED/,
  revoked: /verify_error=CERT_REVOKED/,
  none: /verify_error=NO_CERTIFICATE/,
};

let pki: TestPki;
let target: TestTarget;

before(async () => {
  pki = testPki();
  target = await startEchoTarget();
});
after(async () => {
  await target?.close();
});

function policy(mode: 'optional' | 'required', extra: Partial<ClientCertConfig> = {}): ClientCertConfig {
  return {
    mode,
    caFile: pki.caFile,
    crlFile: pki.crlFile,
    verifyDepth: undefined,
    allowPlain: false,
    allow: ['alice', '*.ops.test'],
    ...extra,
  };
}

async function proxyWith(
  clientCert: ClientCertConfig | undefined,
  more: Parameters<typeof startProxy>[1] = {},
): Promise<TestProxy> {
  return startProxy(target.port, { ...more, tls: { certFile: pki.serverPem, clientCert } });
}

describe('client certificate matrix', () => {
  for (const mode of ['off', 'optional', 'required'] as const) {
    test(`--verify-client ${mode}`, async () => {
      const proxy = await proxyWith(mode === 'off' ? undefined : policy(mode));
      try {
        for (const row of ROWS) {
          const client = row === 'none' ? undefined : pki.clients[row];
          const got = await attempt(proxy.port, pki.ca, client);
          assert.equal(got, EXPECTED[mode][row], `${mode} × ${row}`);
          // The server is still fine: a fresh good client relays.
          assert.equal(
            await attempt(proxy.port, pki.ca, pki.clients.good),
            'relays',
            `good client after ${mode} × ${row}`,
          );
          const why = VERIFY_ERRORS[row];
          if (mode === 'required' && why) {
            const line = proxy.logs.find((l) => l.includes('reason=TLS_CLIENT_CERT_REJECTED') && why.test(l));
            assert.ok(line, `log line for ${row}: ${proxy.logs.filter((l) => l.includes('TLS_CLIENT')).join('\n')}`);
          }
        }
        if (mode !== 'off') {
          // Wildcard SAN on the allowlist.
          assert.equal(await attempt(proxy.port, pki.ca, pki.clients.wildcard), 'relays');
          // The session line names the verified client.
          const session = proxy.logs.find((l) => l.includes('session closed') && l.includes('client_cn=alice'));
          assert.ok(session, 'session line with the client CN');
          assert.match(session, /client_sha256=[0-9A-F:]{95}/);
          assert.match(session, /client_verified=yes/);
        }
      } finally {
        await proxy.close();
      }
    });
  }

  test('optional: the https page is reachable without a certificate; only the upgrade needs one', async () => {
    const proxy = await proxyWith(policy('optional'));
    try {
      const page = await exchange(proxy.port, 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n', {
        tls: true,
        ca: pki.ca,
      });
      assert.equal(statusOf(page), 200);
    } finally {
      await proxy.close();
    }
  });
});

describe('plain ws:// with client certificates on', () => {
  test('refused with 403 CLIENT_CERT_PLAIN; allowed with --allow-plain-with-verify-client', async () => {
    for (const allowPlain of [false, true]) {
      const proxy = await proxyWith(policy('optional', { allowPlain }));
      try {
        const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/websockify`);
        ws.on('error', () => {});
        if (allowPlain) {
          await once(ws, 'open');
          ws.send(Buffer.from('plain'));
          const [data] = (await once(ws, 'message')) as [Buffer];
          assert.equal(data.toString(), 'plain');
          ws.terminate();
        } else {
          const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
          assert.equal(res.statusCode, 403);
          assert.equal(res.headers['x-wsproxy-reason'], 'CLIENT_CERT_PLAIN');
          res.resume();
          ws.terminate();
          assert.ok(proxy.logs.some((l) => l.includes('reason=CLIENT_CERT_PLAIN')));
        }
      } finally {
        await proxy.close();
      }
    }
  });
});

describe('ClientCertCNAuth', () => {
  test('allows verified CNs on the list; never believes a header', async () => {
    const proxy = await proxyWith(policy('optional', { allow: [], allowPlain: true }), {
      auth: { plugin: 'ClientCertCNAuth', source: 'alice dave', webAuth: false },
    });
    try {
      assert.equal(await attempt(proxy.port, pki.ca, pki.clients.good), 'relays');
      assert.equal(await attempt(proxy.port, pki.ca, pki.clients.wildcard), 'relays');
      assert.equal(await attempt(proxy.port, pki.ca, pki.clients.notAllowed), '403 AUTH_FORBIDDEN');
      // websockify's bug (§b.10.2): a lowercase SSL_ header beats the real CN there. Here it is ignored.
      for (const name of ['SSL_CLIENT_S_DN_CN', 'ssl_client_s_dn_cn']) {
        assert.equal(
          await attempt(proxy.port, pki.ca, pki.clients.notAllowed, { [name]: 'alice' }),
          '403 AUTH_FORBIDDEN',
        );
        const plain = await exchange(proxy.port, upgradeRequest('/websockify', { [name]: 'alice' }));
        assert.equal(statusOf(plain), 403, 'plain connection with a forged header');
        assert.match(plain, /X-Wsproxy-Reason: AUTH_FORBIDDEN/);
      }
      // An untrusted certificate carrying an allowed CN (optional mode shows it): the gate looks at verification.
      assert.equal(await attempt(proxy.port, pki.ca, pki.clients.otherCa), '403 CLIENT_CERT_REQUIRED');
      assert.ok(proxy.logs.some((l) => l.includes('session closed') && l.includes('identity=alice')));
    } finally {
      await proxy.close();
    }
  });
});

describe('--verify-depth', () => {
  test('limits intermediate CAs above the client certificate', async () => {
    // No CRL here: with --crl, OpenSSL wants a CRL from the intermediate as well.
    for (const [depth, expected] of [
      [0, '403 CLIENT_CERT_REQUIRED'],
      [1, 'relays'],
      [undefined, 'relays'],
    ] as const) {
      const proxy = await proxyWith(policy('optional', { crlFile: undefined, allow: [], verifyDepth: depth }));
      try {
        assert.equal(
          await attempt(proxy.port, pki.ca, pki.clients.viaIntermediate),
          expected,
          `depth ${String(depth)}`,
        );
        assert.equal(
          await attempt(proxy.port, pki.ca, pki.clients.good),
          'relays',
          'a directly issued client is within any depth',
        );
        if (depth === 0)
          assert.ok(
            proxy.logs.some((l) => l.includes('CERT_CHAIN_TOO_LONG')),
            'reason logged',
          );
      } finally {
        await proxy.close();
      }
    }
  });
});
