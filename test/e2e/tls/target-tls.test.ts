// --ssl-target: real TLS target servers with certificates from test CAs made in-process by certs/authority.ts.
// Verification is never switched off in a test client; `--target-verify none` is exercised as the operator's choice.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createServer, type TLSSocket, type TlsOptions } from 'node:tls';
import {
  createAuthority,
  issueServer,
  issueUser,
  keyToPem,
  loadAuthority,
  type Authority,
  type Issued,
} from '../../../src/certs/authority.js';
import type { TargetTlsConfig } from '../../../src/config/types.js';
import { tlsFailureReason } from '../../../src/relay/connect.js';
import { runCli, closed, exchange, openWs, startProxy, statusOf, upgradeRequest } from '../../helpers/proxy.js';

let dir: string;
let ca: Authority;
let caFile: string;
let otherCaFile: string;
let goodLeaf: Issued;
let otherNameLeaf: Issued;
let foreignLeaf: Issued;
let clientPem: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsproxy-ttls-'));
  const caIssued = await createAuthority('target test');
  ca = await loadAuthority(caIssued.certPem, keyToPem(caIssued.keyPkcs8));
  const otherIssued = await createAuthority('stranger');
  const other = await loadAuthority(otherIssued.certPem, keyToPem(otherIssued.keyPkcs8));
  caFile = join(dir, 'ca.crt');
  otherCaFile = join(dir, 'other-ca.crt');
  writeFileSync(caFile, caIssued.certPem);
  writeFileSync(otherCaFile, otherIssued.certPem);
  goodLeaf = await issueServer(ca, { dns: ['localhost'], ips: ['127.0.0.1'] }, 2);
  otherNameLeaf = await issueServer(ca, { dns: ['vnc.internal.test'], ips: [] }, 2);
  foreignLeaf = await issueServer(other, { dns: ['localhost'], ips: ['127.0.0.1'] }, 2);
  const client = await issueUser(ca, 'wsproxy-gateway', 2);
  clientPem = join(dir, 'client.pem');
  writeFileSync(clientPem, client.certPem + keyToPem(client.keyPkcs8), { mode: 0o600 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A TLS echo target; records the client certificate CN it saw. */
async function tlsEcho(leaf: Issued, extra: TlsOptions = {}) {
  const seen: string[] = [];
  const server = createServer({ cert: leaf.certPem, key: keyToPem(leaf.keyPkcs8), ...extra }, (socket: TLSSocket) => {
    socket.on('error', () => {});
    const peer = socket.getPeerCertificate();
    seen.push(peer.subject ? String(peer.subject.CN) : '-');
    socket.pipe(socket);
  });
  server.on('error', () => {});
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function relays(port: number, targetTls: TargetTlsConfig): Promise<void> {
  const proxy = await startProxy(port, { targetTls });
  try {
    const ws = await openWs(`ws://127.0.0.1:${proxy.port}/websockify`);
    ws.send(Buffer.from('over tls'));
    const [echo] = (await once(ws, 'message')) as [Buffer];
    assert.equal(echo.toString(), 'over tls');
    ws.close();
    await closed(ws);
  } finally {
    await proxy.close();
  }
}

async function refused(port: number, targetTls: TargetTlsConfig, reason: string): Promise<void> {
  const proxy = await startProxy(port, { targetTls });
  try {
    const res = await exchange(proxy.port, upgradeRequest());
    assert.equal(statusOf(res), 502);
    assert.match(res, new RegExp(`X-Wsproxy-Reason: ${reason}`));
    assert.match(res, /Target TLS failed/);
    assert.doesNotMatch(res, /101 Switching/);
    assert.ok(
      proxy.logs.some((l) => l.includes(`reason=${reason}`)),
      proxy.logs.join('\n'),
    );
  } finally {
    await proxy.close();
  }
}

describe('--ssl-target', () => {
  test('private CA given with --target-ca: verified (IP SAN for 127.0.0.1) and relayed', async () => {
    const target = await tlsEcho(goodLeaf);
    try {
      await relays(target.port, { verify: 'required', caFile });
    } finally {
      await target.close();
    }
  });

  test('private CA without --target-ca (system store only): 502 TARGET_TLS_UNKNOWN_CA', async () => {
    const target = await tlsEcho(goodLeaf);
    try {
      await refused(target.port, { verify: 'required' }, 'TARGET_TLS_UNKNOWN_CA');
    } finally {
      await target.close();
    }
  });

  test('certificate from another CA: 502 TARGET_TLS_UNKNOWN_CA', async () => {
    const target = await tlsEcho(foreignLeaf);
    try {
      await refused(target.port, { verify: 'required', caFile }, 'TARGET_TLS_UNKNOWN_CA');
    } finally {
      await target.close();
    }
  });

  test('certificate for another name: 502 TARGET_TLS_NAME_MISMATCH; --target-servername with that name relays', async () => {
    const target = await tlsEcho(otherNameLeaf);
    try {
      await refused(target.port, { verify: 'required', caFile }, 'TARGET_TLS_NAME_MISMATCH');
      await relays(target.port, { verify: 'required', caFile, servername: 'vnc.internal.test' });
      await refused(
        target.port,
        { verify: 'required', caFile, servername: 'other.internal.test' },
        'TARGET_TLS_NAME_MISMATCH',
      );
    } finally {
      await target.close();
    }
  });

  test('--target-verify none relays to an untrusted target (the operator chose it) and warns at start', async () => {
    const target = await tlsEcho(foreignLeaf);
    const proxy = await startProxy(target.port, { targetTls: { verify: 'none' } });
    try {
      assert.ok(
        proxy.logs.some((l) => l.includes('--target-verify none')),
        'warned at start',
      );
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/websockify`);
      ws.send(Buffer.from('unverified'));
      const [echo] = (await once(ws, 'message')) as [Buffer];
      assert.equal(echo.toString(), 'unverified');
      ws.close();
      await closed(ws);
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('a target that requires a client certificate: --target-cert is shown and accepted; without it (TLS 1.2) 502', async () => {
    const target = await tlsEcho(goodLeaf, { requestCert: true, rejectUnauthorized: true, ca: ca.certPem });
    try {
      await relays(target.port, { verify: 'required', caFile, certFile: clientPem });
      assert.deepEqual(target.seen, ['wsproxy-gateway']);
    } finally {
      await target.close();
    }
    // Under TLS 1.2 the target refuses inside the handshake, so the client hears 502. (Under TLS 1.3 the refusal
    // comes after the client's Finished: the WebSocket opens and then closes with the target.)
    const strict = await tlsEcho(goodLeaf, {
      requestCert: true,
      rejectUnauthorized: true,
      ca: ca.certPem,
      maxVersion: 'TLSv1.2',
    });
    try {
      await refused(strict.port, { verify: 'required', caFile }, 'TARGET_TLS_FAILED');
      assert.deepEqual(strict.seen, []);
    } finally {
      await strict.close();
    }
  });

  test('reason codes for expired and not-yet-valid certificates', () => {
    assert.equal(tlsFailureReason(Object.assign(new Error('x'), { code: 'CERT_HAS_EXPIRED' })), 'TARGET_TLS_EXPIRED');
    assert.equal(tlsFailureReason(Object.assign(new Error('x'), { code: 'CERT_NOT_YET_VALID' })), 'TARGET_TLS_EXPIRED');
    assert.equal(tlsFailureReason(Object.assign(new Error('x'), { code: 'ECONNRESET' })), 'TARGET_TLS_FAILED');
  });
});

test('--ssl-target option mistakes: one line naming the flag, exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['--target-ca', caFile, '0', 'localhost:5900'], /--target-ca goes with --ssl-target/],
    [
      ['--ssl-target', '--target-verify', 'maybe', '0', 'localhost:5900'],
      /--target-verify: 'maybe' is not one of required, none/,
    ],
    [
      ['--ssl-target', '--target-ca', join(dir, 'missing.pem'), '0', 'localhost:5900'],
      /--target-ca: '.*missing\.pem' is not a readable file/,
    ],
    [['--ssl-target', '--target-key', clientPem, '0', 'localhost:5900'], /--target-key goes with --target-cert/],
    [['--ssl-target', '0', 'unix:/run/x.sock'], /--ssl-target needs a host:port target/],
    [['--ssl-target', '--target-ca', clientPem.replace('client.pem', 'nothing'), '0', 'localhost:5900'], /--target-ca/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(args, { timeoutMs: 10_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  // A file that exists but holds no certificate is caught at start, not on the first connection.
  const junk = join(dir, 'junk.pem');
  writeFileSync(junk, 'not a certificate\n');
  const r = runCli(['--ssl-target', '--target-ca', junk, '127.0.0.1:0', 'localhost:5900'], { timeoutMs: 10_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--target-ca: '.*junk\.pem' holds no/);
});
