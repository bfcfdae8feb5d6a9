// Every error class of src/errors.ts: its stable code (set by the constructor), its name, and the extra fields it
// declares; and which reason a failed client socket gets.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AbortedError,
  AdminListenError,
  CertificateError,
  CertInputError,
  clientFailureReason,
  ConfigError,
  LogStalledError,
  NotASocketError,
  PluginModuleError,
  ProxyError,
  REASONS,
  ReloadError,
  RELOAD_REASONS,
  SetupError,
  SourceError,
  TimeoutError,
  UsageError,
  WsproxyError,
} from '../../src/errors.js';

describe('error classes', () => {
  const cases: [WsproxyError, string, string][] = [
    [new ProxyError('TARGET_TIMEOUT'), 'ProxyError', 'TARGET_TIMEOUT'],
    [new ReloadError('CONFIG_SYNTAX', 'bad yaml'), 'ReloadError', 'CONFIG_SYNTAX'],
    [new SetupError('TARGET_TLS_UNUSABLE', '--target-ca: no PEM'), 'SetupError', 'TARGET_TLS_UNUSABLE'],
    [new ConfigError('--port', '--port: bad'), 'ConfigError', 'CONFIG_INVALID'],
    [new SourceError('cannot read'), 'SourceError', 'CONFIG_INVALID'],
    [new UsageError('unknown option'), 'UsageError', 'USAGE'],
    [new PluginModuleError('--auth-plugin: no export'), 'PluginModuleError', 'PLUGIN_UNUSABLE'],
    [new CertInputError('--host: bad'), 'CertInputError', 'CERT_INPUT_INVALID'],
    [new CertificateError('--cert: missing', true), 'CertificateError', 'CERTIFICATE_UNUSABLE'],
    [new AdminListenError(new Error('listen EADDRINUSE')), 'AdminListenError', 'ADMIN_LISTEN_FAILED'],
    [new NotASocketError('/tmp/x exists'), 'NotASocketError', 'EEXIST'],
    [new TimeoutError('connect timed out'), 'TimeoutError', 'ETIMEDOUT'],
    [new AbortedError(), 'AbortedError', 'ABORTED'],
    [new LogStalledError('log output stalled'), 'LogStalledError', 'EAGAIN'],
  ];
  for (const [err, name, code] of cases) {
    test(`${name} has the stable code ${code}`, () => {
      assert.ok(err instanceof Error && err instanceof WsproxyError);
      assert.equal(err.name, name);
      assert.equal(err.code, code);
      assert.ok(err.message.length > 0);
      assert.match(String(err.stack), new RegExp(`^${name}: `));
    });
  }

  test('a ProxyError without a message says its catalogue text; status and close code come from the code', () => {
    const e = new ProxyError('TEXT_FRAME');
    assert.equal(e.message, REASONS.TEXT_FRAME.text);
    assert.equal(e.closeCode, 1003);
    assert.equal(e.httpStatus, undefined);
    assert.equal(new ProxyError('TOKEN_UNKNOWN').httpStatus, 404);
  });

  test('a SourceError code follows its problem; each is a reload reason', () => {
    assert.equal(new SourceError('x', 'unreadable').code, 'CONFIG_UNREADABLE');
    assert.equal(new SourceError('x', 'syntax').code, 'CONFIG_SYNTAX');
    assert.equal(new SourceError('x', 'invalid').code, 'CONFIG_INVALID');
    for (const problem of ['unreadable', 'syntax', 'invalid'] as const) {
      assert.ok(Object.hasOwn(RELOAD_REASONS, new SourceError('x', problem).code), problem);
    }
  });

  test('declared fields: flag, source, missing, cause', () => {
    assert.equal(new ConfigError('--port', 'm').flag, '--port');
    assert.equal(new ReloadError('CONFIG_INVALID', 'm', { flag: '--web' }).flag, '--web');
    assert.equal(new UsageError('m', 'syntax').source, 'syntax');
    assert.equal(new CertificateError('m', false).missing, false);
    const listen = Object.assign(new Error('listen EACCES'), { code: 'EACCES' });
    const admin = new AdminListenError(listen);
    assert.equal(admin.cause, listen, 'main.ts words the listen error it carries');
    assert.equal(admin.message, 'listen EACCES');
    assert.equal(new SetupError('PLUGIN_UNUSABLE', 'm', { cause: listen }).cause, listen);
  });

  // Checked by tsc at build time (an unused @ts-expect-error fails the build): codes are typed and read-only.
  void ((e: ConfigError): void => {
    // @ts-expect-error code is readonly: the constructor sets it, nothing attaches one later
    e.code = 'CONFIG_SYNTAX';
    // @ts-expect-error a SetupError code is one of three reload reasons
    void new SetupError('CONFIG_SYNTAX', 'm');
    // @ts-expect-error a ProxyError code is a catalogue reason, and CLIENT_ERROR was split
    void new ProxyError('CLIENT_ERROR');
  });
});

describe('clientFailureReason', () => {
  test('a TLS-layer error is CLIENT_TLS_ERROR; a reset, broken pipe or other error is CLIENT_RESET', () => {
    const coded = (code: string): Error => Object.assign(new Error(code), { code });
    assert.equal(clientFailureReason(coded('ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC')), 'CLIENT_TLS_ERROR');
    assert.equal(clientFailureReason(coded('ECONNRESET')), 'CLIENT_RESET');
    assert.equal(clientFailureReason(coded('EPIPE')), 'CLIENT_RESET');
    assert.equal(clientFailureReason(new Error('no code')), 'CLIENT_RESET');
    for (const code of [
      'CLIENT_TLS_ERROR',
      'CLIENT_RESET',
      'CLIENT_LEFT_EARLY',
      'PROXY_HEADER_INCOMPLETE',
      'CLIENT_LEFT_UPGRADE',
      'UPSTREAM_CLIENT_GONE',
    ] as const) {
      assert.ok(!('status' in REASONS[code]) && !('closeCode' in REASONS[code]), `${code} is a dropped connection`);
    }
  });
});
