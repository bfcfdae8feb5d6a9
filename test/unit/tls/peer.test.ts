// Pure decisions of the client-certificate gate, the TLS options in resolveConfig, and the bare --verify-client switch.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from '../../../src/cli.js';
import { resolveConfig } from '../../../src/config/index.js';
import type { ClientCertConfig } from '../../../src/config/types.js';
import { profileOptions, INTERMEDIATE_CIPHERS, DHE_CIPHERS, TLS13_CIPHERS } from '../../../src/tls/context.js';
import {
  altNames,
  clientCertVerdict,
  commonName,
  isoDate,
  matchesPattern,
  NO_PEER,
  peerLogFields,
  peerMatches,
  requestCertVerdict,
  type PeerIdentity,
} from '../../../src/tls/peer.js';

const FILE = fileURLToPath(import.meta.url);

const verified: PeerIdentity = {
  ...NO_PEER,
  authorized: true,
  verifyError: undefined,
  presented: true,
  cn: 'alice',
  sans: ['alice.ops.example', 'alice@example.com'],
};
const untrusted: PeerIdentity = { ...verified, authorized: false, verifyError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' };

function policy(over: Partial<ClientCertConfig> = {}): ClientCertConfig {
  return {
    mode: 'optional',
    caFile: undefined,
    crlFile: undefined,
    verifyDepth: undefined,
    allowPlain: false,
    allow: [],
    ...over,
  };
}

function cli(argv: string[]) {
  const c = parseCommandLine(argv);
  if (c.kind !== 'run') throw new Error('not a run');
  return c.args;
}

describe('client certificate gate', () => {
  test('allowlist patterns: exact names and one-label wildcards, case-insensitive', () => {
    assert.ok(matchesPattern('alice', 'ALICE'));
    assert.ok(matchesPattern('*.ops.example', 'alice.ops.example'));
    assert.ok(!matchesPattern('*.ops.example', 'a.b.ops.example'));
    assert.ok(!matchesPattern('*.ops.example', 'ops.example'));
    assert.ok(!matchesPattern('*.ops.example', 'evilops.example'));
    assert.ok(peerMatches(verified, ['*.ops.example']));
    assert.ok(peerMatches(verified, []));
    assert.ok(!peerMatches(verified, ['bob', '*.dev.example']));
  });

  test('verdicts: off lets all through; plain refused unless allowed; an untrusted CN never counts', () => {
    assert.deepEqual(clientCertVerdict(undefined, false, undefined), { ok: true });
    assert.equal(clientCertVerdict(policy(), false, undefined).ok, false);
    const plain = clientCertVerdict(policy(), false, undefined);
    assert.ok(!plain.ok && plain.code === 'CLIENT_CERT_PLAIN');
    assert.deepEqual(clientCertVerdict(policy({ allowPlain: true }), false, undefined), { ok: true });
    const bad = clientCertVerdict(policy(), true, untrusted);
    assert.ok(
      !bad.ok && bad.code === 'CLIENT_CERT_REQUIRED' && bad.message.includes('UNABLE_TO_VERIFY_LEAF_SIGNATURE'),
    );
    const none = clientCertVerdict(policy(), true, undefined);
    assert.ok(!none.ok && none.code === 'CLIENT_CERT_REQUIRED');
    const notListed = clientCertVerdict(policy({ allow: ['bob'] }), true, verified);
    assert.ok(!notListed.ok && notListed.code === 'CLIENT_CERT_NOT_ALLOWED');
    assert.deepEqual(clientCertVerdict(policy({ allow: ['alice'] }), true, verified), { ok: true });
  });

  test('ordinary requests: only required guards them, plain ones with HTTPS_REQUIRED unless allowPlain', () => {
    assert.deepEqual(requestCertVerdict(undefined, false, undefined), { ok: true });
    assert.deepEqual(requestCertVerdict(policy(), false, undefined), { ok: true });
    assert.deepEqual(requestCertVerdict(policy(), true, untrusted), { ok: true });
    const plain = requestCertVerdict(policy({ mode: 'required' }), false, undefined);
    assert.ok(!plain.ok && plain.code === 'HTTPS_REQUIRED' && plain.message.includes('https://'));
    assert.deepEqual(requestCertVerdict(policy({ mode: 'required', allowPlain: true }), false, undefined), {
      ok: true,
    });
    const notListed = requestCertVerdict(policy({ mode: 'required', allow: ['bob'] }), true, verified);
    assert.ok(!notListed.ok && notListed.code === 'CLIENT_CERT_NOT_ALLOWED');
    assert.deepEqual(requestCertVerdict(policy({ mode: 'required', allow: ['alice'] }), true, verified), { ok: true });
  });

  test('DN and SAN parsing', () => {
    assert.equal(commonName('C=DE\nO=x\nCN=alice\nCN=second'), 'alice');
    assert.equal(commonName('O=x'), undefined);
    assert.deepEqual(altNames('DNS:a.example, IP Address:127.0.0.1, email:x@y.example'), [
      'a.example',
      '127.0.0.1',
      'x@y.example',
    ]);
    assert.deepEqual(altNames(undefined), []);
  });

  test('a SAN holding a separator is one name (Node JSON-quotes it), never several', () => {
    // Node's text for a dNSName "x, DNS:alice, DNS:y": an allowlist of "alice" must not match it.
    const sans = altNames('DNS:"x\\u002c DNS:alice\\u002c DNS:y", DNS:b.example');
    assert.deepEqual(sans, ['x, DNS:alice, DNS:y', 'b.example']);
    assert.ok(!peerMatches({ ...verified, cn: undefined, sans }, ['alice']));
    assert.deepEqual(altNames('DNS:"unterminated'), ['"unterminated']);
  });

  test('dates OpenSSL could not decode are unknown, never an exception (issue #12, finding 1)', () => {
    assert.equal(isoDate('Bad time value'), undefined);
    assert.equal(isoDate(undefined), undefined);
    assert.equal(isoDate('Dec 31 23:59:59 9999 GMT'), '9999-12-31T23:59:59.000Z');
    assert.equal(isoDate('Jan  1 00:00:00 1950 GMT'), '1950-01-01T00:00:00.000Z');
  });

  test('log fields keep the start of a very long CN', () => {
    const fields = peerLogFields({ ...verified, cn: 'x'.repeat(6000) });
    assert.equal(fields['client_cn'], `${'x'.repeat(256)}…`);
    assert.equal(peerLogFields({ ...verified, cn: undefined })['client_cn'], '');
  });
});

describe('TLS command line and config', () => {
  test('a bare --verify-client means required and does not eat the port', () => {
    const a = cli(['--verify-client', '6080', 'localhost:5900']);
    assert.equal(a.verifyClient, 'required');
    assert.deepEqual(a.positionals, ['6080', 'localhost:5900']);
    assert.equal(cli(['--verify-client', 'optional', '6080', 'h:1']).verifyClient, 'optional');
    assert.equal(cli(['6080', 'h:1', '--verify-client']).verifyClient, 'required');
    assert.equal(cli(['--verify-client=off', '6080', 'h:1']).verifyClient, 'off');
    assert.equal(cli(['--client-ca', FILE, '6080', 'h:1']).cafile, FILE);
  });

  test('client certificate settings resolve; the profile options follow the flags', () => {
    const c = resolveConfig(
      cli([
        '--verify-client',
        'optional',
        '--cafile',
        FILE,
        '--crl',
        FILE,
        '--verify-depth',
        '2',
        '--client-cert-allow',
        'alice, *.ops.example',
        '6080',
        'h:1',
      ]),
      '/',
      {},
    );
    assert.deepEqual(c.tls.clientCert, {
      mode: 'optional',
      caFile: FILE,
      crlFile: FILE,
      verifyDepth: 2,
      allowPlain: false,
      allow: ['alice', '*.ops.example'],
    });
    const d = resolveConfig(cli(['6080', 'h:1']), '/', {});
    assert.equal(d.tls.clientCert, undefined);
    assert.equal(d.tls.options?.profile, 'intermediate');
    assert.equal(d.tls.options?.hstsSeconds, 0);
    assert.equal(d.tls.options?.sessionTickets, true);
    assert.equal(d.tls.options?.ticketRotateMs, 86_400_000);
    const p = profileOptions(d.tls.options);
    assert.equal(p.minVersion, 'TLSv1.2');
    assert.equal(p.ciphers, INTERMEDIATE_CIPHERS);
    assert.equal(p.secureOptions, undefined);
    const m = profileOptions(
      resolveConfig(cli(['--tls-profile', 'modern', '--no-session-tickets', '6080', 'h:1']), '/', {}).tls.options,
    );
    assert.equal(m.minVersion, 'TLSv1.3');
    assert.equal(m.ciphers, TLS13_CIPHERS);
    assert.ok(((m.secureOptions ?? 0) & 0x4000) !== 0, 'SSL_OP_NO_TICKET');
    const dh = resolveConfig(
      cli(['--dhparam', FILE, '--ecdh-curve', 'X25519:nonsense:P-256', '--ssl-version', 'tlsv1_3', '6080', 'h:1']),
      '/',
      {},
    );
    assert.equal(dh.tls.options?.ecdhCurve, 'X25519:P-256');
    assert.equal(profileOptions(dh.tls.options).ciphers, `${INTERMEDIATE_CIPHERS}:${DHE_CIPHERS}`);
    assert.equal(profileOptions(dh.tls.options).minVersion, 'TLSv1.3');
  });
});
