import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CliArgs } from '../../../src/config/options/index.js';
import { flag } from '../../../src/config/options/index.js';
import {
  ADMIN_RULES,
  AUTH_RULES,
  checkRules,
  CLIENT_ADDRESS_RULES,
  CLIENT_CERT_RULES,
  HTTP_UPSTREAM_RULES,
  JWT_RULES,
  LISTEN_RULES,
  PROCESS_RULES,
  SYSLOG_RULES,
  TARGET_KEY_RULES,
  TARGET_SOURCE_RULES,
  TARGET_TLS_RULES,
  TLS_PROFILE_RULES,
  TOKEN_FROM_RULES,
  WEB_CSP_RULES,
  WORKER_CLASHES,
  WRAP_RULES,
  type Rule,
} from '../../../src/config/rules.js';
import { cliArgs, configError } from '../../helpers/config.js';

const ALL: readonly Rule[] = [
  ...LISTEN_RULES,
  ...WRAP_RULES,
  ...TARGET_SOURCE_RULES,
  ...TOKEN_FROM_RULES,
  ...JWT_RULES,
  ...CLIENT_CERT_RULES,
  ...TLS_PROFILE_RULES,
  ...TARGET_TLS_RULES,
  ...TARGET_KEY_RULES,
  ...HTTP_UPSTREAM_RULES,
  ...AUTH_RULES,
  ...ADMIN_RULES,
  ...WEB_CSP_RULES,
  ...CLIENT_ADDRESS_RULES,
  ...PROCESS_RULES,
  ...SYSLOG_RULES,
];

/** The exact message checkRules gives for `over`, with the option it names. */
function broken(rules: readonly Rule[], over: Partial<CliArgs>): { flag: string; message: string } {
  try {
    checkRules(rules, cliArgs(over));
  } catch (err) {
    const e = err as { flag: string; message: string };
    return { flag: e.flag, message: e.message };
  }
  assert.fail(`no rule broken by ${JSON.stringify(over)}`);
}

describe('checkRules', () => {
  test('the defaults break no rule', () => {
    for (const rule of ALL) assert.equal(rule.broken(cliArgs()), false, String(rule.flag));
    checkRules(ALL, cliArgs());
  });
  test('the first broken rule of a list is the one reported, as a one-line ConfigError naming its option', () => {
    configError(
      () => checkRules(TARGET_TLS_RULES, cliArgs({ targetKey: 'k.pem', targetCa: 'ca.pem' })),
      '--target-ca',
      /^--target-ca goes with --ssl-target \(TLS to the target\); add --ssl-target$/,
    );
    configError(
      () => checkRules(AUTH_RULES, cliArgs({ webAuth: true, authSource: 'u:p' })),
      '--auth-source',
      /^--auth-source needs --auth-plugin \(e\.g\. --auth-plugin BasicHTTPAuth\)$/,
    );
  });
  test('each fixed message names the option the error is for (-D is the one short spelling)', () => {
    for (const rule of ALL) {
      if (typeof rule.message !== 'string' || rule.flag === 'daemon') continue;
      assert.ok(rule.message.includes(flag(rule.flag)), rule.message);
    }
    assert.match(PROCESS_RULES[0]?.message as string, /^-D and --inetd exclude each other/);
  });
});

describe('the rules, each with the message it has always had', () => {
  test('options that need another', () => {
    assert.deepEqual(broken(ADMIN_RULES, { adminTokenFile: 't' }), {
      flag: '--admin-token-file',
      message: '--admin-token-file needs --admin-listen (e.g. --admin-listen 127.0.0.1:9090)',
    });
    assert.deepEqual(broken(SYSLOG_RULES, { legacySyslog: true }), {
      flag: '--legacy-syslog',
      message: '--legacy-syslog needs --syslog (e.g. --syslog /dev/log)',
    });
    assert.deepEqual(broken(TARGET_SOURCE_RULES, { hostToken: true }), {
      flag: '--host-token',
      message: '--host-token needs --token-plugin (e.g. --token-plugin TokenFile)',
    });
    assert.deepEqual(broken(HTTP_UPSTREAM_RULES, { upstreamUnderscoreHeaders: true }), {
      flag: '--upstream-underscore-headers',
      message: '--upstream-underscore-headers goes with --http-upstream URL; add --http-upstream or drop it',
    });
    assert.deepEqual(broken(CLIENT_CERT_RULES, { crl: 'crl.pem' }), {
      flag: '--crl',
      message: '--crl checks client certificates; add --verify-client [optional|required]',
    });
    assert.deepEqual(broken(TARGET_KEY_RULES, { targetKey: 'k.pem' }), {
      flag: '--target-key',
      message: '--target-key goes with --target-cert (the client certificate it belongs to)',
    });
    assert.deepEqual(broken(WEB_CSP_RULES, { webCsp: "default-src 'self'" }), {
      flag: '--web-csp',
      message: '--web-csp sets the policy of --web files; give --web DIR too (built-in pages keep their own)',
    });
  });
  test('a token plugin given the old way (--target-config) counts as one', () => {
    assert.equal(TARGET_SOURCE_RULES[2]?.broken(cliArgs({ targetConfig: 'f', hostToken: true })), false);
    assert.deepEqual(broken(TARGET_SOURCE_RULES, { targetConfig: 'f', tokenSource: 'g' }), {
      flag: '--target-config',
      message:
        '--target-config is the old spelling of --token-plugin TokenFile --token-source FILE; give one or the other',
    });
  });
  test('options that exclude each other', () => {
    assert.deepEqual(broken(LISTEN_RULES, { inetd: true, unixListen: '/s' }), {
      flag: '--inetd',
      message: '--inetd and --unix-listen exclude each other',
    });
    assert.deepEqual(broken(TOKEN_FROM_RULES, { hostToken: true, tokenFromPath: true }), {
      flag: '--host-token',
      message: '--host-token and --token-from-path exclude each other; pick where the token comes from',
    });
    assert.deepEqual(broken(PROCESS_RULES, { daemon: true, inetd: true }), {
      flag: '--daemon',
      message: '-D and --inetd exclude each other: under inetd the listening socket is standard input; drop -D',
    });
    assert.deepEqual(broken(TARGET_SOURCE_RULES, { wrapCommand: ['prog'], demo: true }), {
      flag: '--wrap-target',
      message: 'wrapping a program (-- COMMAND) relays to --wrap-target; drop --demo/--token-plugin',
    });
  });
  test('the PROXY header needs trusted proxies, except on a unix socket; forwarded headers always', () => {
    assert.equal(broken(CLIENT_ADDRESS_RULES, { proxyProtocolIn: true }).flag, '--proxy-protocol-in');
    checkRules(CLIENT_ADDRESS_RULES, cliArgs({ proxyProtocolIn: true, unixListen: '/s' }));
    checkRules(CLIENT_ADDRESS_RULES, cliArgs({ proxyProtocolIn: true, trustedProxy: ['10.0.0.0/8'] }));
    assert.deepEqual(broken(CLIENT_ADDRESS_RULES, { trustForwarded: true, unixListen: '/s', trustedProxy: [' , '] }), {
      flag: '--trust-forwarded',
      message: '--trust-forwarded needs --trusted-proxy CIDR (the reverse proxies whose headers are believed)',
    });
  });
  test('the modern profile refuses older versions (named as typed, lowercased) and TLS 1.2 suites', () => {
    assert.deepEqual(broken(TLS_PROFILE_RULES, { tlsProfile: 'modern', sslVersion: 'TLSv1_2' }), {
      flag: '--ssl-version',
      message: '--ssl-version tlsv1_2 contradicts --tls-profile modern (TLS 1.3 only); drop one of them',
    });
    checkRules(TLS_PROFILE_RULES, cliArgs({ tlsProfile: 'modern', sslVersion: 'TLSv1_3' }));
    assert.equal(broken(TLS_PROFILE_RULES, { tlsProfile: 'modern', sslCiphers: 'AES' }).flag, '--ssl-ciphers');
    checkRules(TLS_PROFILE_RULES, cliArgs({ sslVersion: 'tlsv1_1', sslCiphers: 'AES' }));
  });
  test('the client-certificate options count only without client certificates', () => {
    checkRules(CLIENT_CERT_RULES, cliArgs({ verifyClient: 'optional', cafile: 'ca.pem', clientCertAllow: ['a'] }));
    assert.equal(broken(CLIENT_CERT_RULES, { clientCertAllow: [' a '] }).flag, '--client-cert-allow');
    checkRules(CLIENT_CERT_RULES, cliArgs({ clientCertAllow: [' , '] }));
  });
});

describe('WORKER_CLASHES', () => {
  const first = (over: Partial<CliArgs>): string | undefined =>
    WORKER_CLASHES.find((c) => c.clashes(cliArgs(over)))?.label;
  test('what one process owns, reported in a fixed order', () => {
    assert.equal(first({}), undefined);
    assert.equal(first({ runOnce: true, inetd: true }), '--inetd');
    assert.equal(first({ timeout: '5', adminListen: '9090' }), '--timeout');
    assert.equal(first({ timeout: '0', idleTimeout: '0.5' }), '--idle-timeout');
    assert.equal(first({ wrapCommand: ['prog'] }), "'-- COMMAND' (wrap mode)");
  });
});
