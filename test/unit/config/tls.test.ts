// The TLS resolvers driven by fake probes: which files exist and what OpenSSL accepts come from plain lists.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveClientCert } from '../../../src/config/client-cert.js';
import { resolveTlsOptions } from '../../../src/config/tls-options.js';
import { resolveTls } from '../../../src/config/tls.js';
import { cliArgs, configError, fakeProbes } from '../../helpers/config.js';

describe('resolveTls (fake probes)', () => {
  test('self.pem in the working directory is used; without it one is generated', () => {
    const present = resolveTls(cliArgs(), '/srv', '/state', fakeProbes({ files: ['/srv/self.pem'] }));
    assert.equal(present.certFile, '/srv/self.pem');
    assert.equal(present.certGiven, false);
    assert.equal(present.generateIfMissing, false);
    assert.equal(present.stateDir, '/state');
    assert.equal(resolveTls(cliArgs(), '/srv', '/state', fakeProbes()).generateIfMissing, true);
  });
  test('a certificate or key given on purpose must be a file', () => {
    const probes = fakeProbes({ files: ['/srv/cert.pem', '/srv/key.pem'] });
    const tls = resolveTls(cliArgs({ cert: 'cert.pem', key: 'key.pem' }), '/srv', '/state', probes);
    assert.deepEqual([tls.certFile, tls.keyFile, tls.certGiven], ['/srv/cert.pem', '/srv/key.pem', true]);
    configError(
      () => resolveTls(cliArgs({ cert: 'cert.pem', key: 'nokey.pem' }), '/srv', '/s', probes),
      '--key',
      /^--key: '\/srv\/nokey\.pem' is not a readable file; give the PEM private key that matches --cert$/,
    );
    configError(
      () => resolveTls(cliArgs({ cert: 'other.pem' }), '/srv', '/s', probes),
      '--cert',
      /^--cert: '\/srv\/other\.pem' not found; give an existing PEM file, make one with scripts\/make-self-signed\.sh, or drop --cert to use a generated one$/,
    );
  });
});

describe('resolveTlsOptions (fake probes)', () => {
  test('key-exchange groups are filtered to those OpenSSL supports; none supported is a mistake', () => {
    const probes = fakeProbes({ groups: ['X25519'] });
    assert.equal(resolveTlsOptions(cliArgs({ ecdhCurve: 'nope:X25519, P-521' }), '/', probes).ecdhCurve, 'X25519');
    configError(
      () => resolveTlsOptions(cliArgs({ ecdhCurve: 'P-256' }), '/', probes),
      '--ecdh-curve',
      /^--ecdh-curve: OpenSSL supports none of 'P-256'; write e\.g\. X25519:P-256:P-384$/,
    );
  });
  test('cipher lists OpenSSL refuses are mistakes, each in its own syntax', () => {
    const refusing = fakeProbes({ ciphersAccepted: () => false });
    configError(
      () => resolveTlsOptions(cliArgs({ sslCiphers: 'ECDHE-RSA-AES128-GCM-SHA256' }), '/', refusing),
      '--ssl-ciphers',
      /OpenSSL accepts no TLS 1\.2 cipher in 'ECDHE-RSA-AES128-GCM-SHA256'.*\(TLS 1\.3 suites go in --tls13-ciphers\)$/,
    );
    configError(
      () => resolveTlsOptions(cliArgs({ tls13Ciphers: 'TLS_AES_128_GCM_SHA256' }), '/', refusing),
      '--tls13-ciphers',
      /is not a list of TLS 1\.3 suites/,
    );
    const accepting = fakeProbes();
    const ok = resolveTlsOptions(cliArgs({ tls13Ciphers: 'TLS_AES_128_GCM_SHA256' }), '/', accepting);
    assert.equal(ok.tls13Ciphers, 'TLS_AES_128_GCM_SHA256');
    configError(
      () => resolveTlsOptions(cliArgs({ sslCiphers: 'TLS_AES_128_GCM_SHA256' }), '/', accepting),
      '--ssl-ciphers',
      /OpenSSL accepts no TLS 1\.2 cipher/,
    );
  });
  test('chain and DH parameter files resolve against cwd and must exist', () => {
    const probes = fakeProbes({ files: ['/srv/chain.pem'] });
    const options = resolveTlsOptions(cliArgs({ chain: 'chain.pem' }), '/srv', probes);
    assert.equal(options.chainFile, '/srv/chain.pem');
    assert.equal(options.dhparamFile, undefined);
    configError(
      () => resolveTlsOptions(cliArgs({ dhparam: 'dh.pem' }), '/srv', probes),
      '--dhparam',
      /^--dhparam: '\/srv\/dh\.pem' is not a readable file; give a PEM DH parameters file \(openssl dhparam -out dh\.pem 2048\)$/,
    );
  });
  test('the defaults: intermediate profile, tickets rotated daily, files watched', () => {
    assert.deepEqual(resolveTlsOptions(cliArgs(), '/', fakeProbes()), {
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
      watchFiles: true,
    });
  });
});

describe('resolveClientCert (fake probes)', () => {
  test('off gives no settings; on, the CA file must exist and names are lowercased', () => {
    assert.equal(resolveClientCert(cliArgs(), '/', fakeProbes()), undefined);
    const probes = fakeProbes({ files: ['/pki/ca.pem'] });
    const on = cliArgs({ verifyClient: 'required', cafile: '/pki/ca.pem', clientCertAllow: ['*.Ops.example alice'] });
    assert.deepEqual(resolveClientCert(on, '/', probes), {
      mode: 'required',
      caFile: '/pki/ca.pem',
      crlFile: undefined,
      verifyDepth: undefined,
      allowPlain: false,
      allow: ['*.ops.example', 'alice'],
    });
    configError(
      () => resolveClientCert(cliArgs({ verifyClient: 'optional', crl: 'crl.pem' }), '/pki', probes),
      '--crl',
      /^--crl: '\/pki\/crl\.pem' is not a readable file; give a PEM certificate revocation list from the client CA$/,
    );
  });
});
