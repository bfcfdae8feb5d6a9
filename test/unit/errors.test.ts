// Every error class of src/errors.ts: its stable code (set by the constructor), its name, and the extra fields it
// declares; the reason catalogue; errnoCode; and which reason a failed client socket gets.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AbortedError,
  AdminListenError,
  CertificateError,
  CertInputError,
  clientFailureReason,
  closeCodeOf,
  ConfigError,
  errnoCode,
  httpStatusOf,
  isHttpReason,
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
  type ReasonCode,
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
    assert.equal(admin.cause, listen, 'process/ words the listen error it carries');
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

describe('error catalogue', () => {
  const codes = Object.keys(REASONS) as ReasonCode[];
  const entry = (code: ReasonCode): { status?: number; closeCode?: number; text: string } => REASONS[code];

  test('every entry has a non-empty one-line text', () => {
    assert.ok(codes.length > 0);
    for (const code of codes) {
      const { text } = entry(code);
      assert.ok(text.trim().length > 0, code);
      assert.doesNotMatch(text, /\n/, code);
      assert.match(code, /^[A-Z][A-Z0-9_]*$/);
    }
  });
  // Written out by hand, not derived from REASONS: a changed status, close code, or an added or dropped code must
  // show up here as a failing line (and be a deliberate, reviewed change).
  const HTTP: Readonly<Record<string, number>> = {
    BAD_REQUEST: 400,
    BAD_FRAMING: 400,
    HEADERS_TOO_LARGE: 431,
    EXPECTATION_FAILED: 417,
    METHOD_NOT_ALLOWED: 405,
    NOT_FOUND: 404,
    BAD_HANDSHAKE: 400,
    UNSUPPORTED_VERSION: 426,
    SUBPROTOCOL_UNSUPPORTED: 400,
    ORIGIN_FORBIDDEN: 403,
    AUTH_REQUIRED: 401,
    AUTH_FORBIDDEN: 403,
    TOKEN_MISSING: 401,
    TOKEN_UNKNOWN: 404,
    TOKEN_SOURCE_DOWN: 503,
    TARGET_REFUSED: 502,
    TARGET_UNREACHABLE: 502,
    TARGET_DNS: 502,
    TARGET_FAILED: 502,
    TARGET_TIMEOUT: 504,
    TARGET_TLS_UNKNOWN_CA: 502,
    TARGET_TLS_NAME_MISMATCH: 502,
    TARGET_TLS_EXPIRED: 502,
    TARGET_TLS_FAILED: 502,
    SHUTTING_DOWN: 503,
    RUN_ONCE_BUSY: 503,
    HOST_NOT_ALLOWED: 421,
    RATE_LIMITED: 429,
    AUTH_RATE_LIMITED: 429,
    TOKEN_SESSION_LIMIT: 429,
    TARGET_FORBIDDEN: 403,
    UPSTREAM_FAILED: 502,
    CLIENT_CERT_PLAIN: 403,
    CLIENT_CERT_REQUIRED: 403,
    HTTPS_REQUIRED: 403,
    CLIENT_CERT_NOT_ALLOWED: 403,
    INTERNAL_ERROR: 500,
    ADMIN_BROWSER_REFUSED: 403,
    ADMIN_HOST_NOT_ALLOWED: 421,
  };
  const CLOSE: Readonly<Record<string, number>> = {
    TARGET_CLOSED: 1000,
    CLIENT_GONE: 1006,
    BAD_BASE64: 1007,
    TEXT_FRAME: 1003,
    MESSAGE_TOO_BIG: 1009,
    MESSAGE_BUFFER_FULL: 1009,
    PROTOCOL_ERROR: 1002,
    TARGET_ERROR: 1011,
    SERVER_SHUTDOWN: 1001,
    TOKEN_REVOKED: 1008,
    TOKEN_TARGET_CHANGED: 1008,
    HEARTBEAT_TIMEOUT: 1006,
    ADMIN_CLOSED: 1008,
  };
  const NEITHER = [
    'HANDSHAKE_TIMEOUT',
    'TLS_HANDSHAKE_FAILED',
    'TLS_NOT_CONFIGURED',
    'TLS_CLIENT_CERT_REJECTED',
    'PLAIN_REFUSED',
    'CONNECTION_LIMIT',
    'CONNECTION_LIMIT_PER_IP',
    'CLIENT_LEFT_EARLY',
    'PROXY_HEADER_INCOMPLETE',
    'CLIENT_RESET',
    'CLIENT_TLS_ERROR',
    'CLIENT_LEFT_UPGRADE',
    'UPSTREAM_CLIENT_GONE',
    'PROXY_UNTRUSTED',
    'PROXY_HEADER_INVALID',
    'CLIENT_CLOSED',
    'RECORDING_DROPPED',
    'OPEN_RELAY',
    'WEB_SECRET_HIDDEN',
  ];

  test('the catalogue holds exactly the expected codes', () => {
    const expected = [...Object.keys(HTTP), ...Object.keys(CLOSE), ...NEITHER].sort();
    assert.deepEqual([...codes].sort(), expected);
  });
  test('each code has its expected HTTP status, close code, or neither', () => {
    for (const code of codes) {
      assert.equal(httpStatusOf(code), HTTP[code], `${code} status`);
      assert.equal(closeCodeOf(code), CLOSE[code], `${code} close code`);
      assert.equal(isHttpReason(code), HTTP[code] !== undefined, `${code} isHttpReason`);
    }
  });
  test('the status and close code accessors read the catalogue entry', () => {
    for (const code of codes) {
      const e = entry(code);
      assert.equal(httpStatusOf(code), e.status, code);
      assert.equal(closeCodeOf(code), e.closeCode, code);
    }
  });
});

describe('ProxyError', () => {
  test('carries the code, the catalogue text by default, and the status or close code', () => {
    const e = new ProxyError('TARGET_TIMEOUT');
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'ProxyError');
    assert.equal(e.code, 'TARGET_TIMEOUT');
    assert.equal(e.message, REASONS.TARGET_TIMEOUT.text);
    assert.equal(e.httpStatus, 504);
    assert.equal(e.closeCode, undefined);
    assert.equal(new ProxyError('TARGET_REFUSED').httpStatus, 502);
    const t = new ProxyError('TEXT_FRAME');
    assert.equal(t.httpStatus, undefined);
    assert.equal(t.closeCode, 1003);
  });
  test('a custom message and a cause', () => {
    const cause = new Error('inner');
    const e = new ProxyError('TARGET_FAILED', 'connect to x:1 failed', { cause });
    assert.equal(e.message, 'connect to x:1 failed');
    assert.equal(e.cause, cause);
    assert.equal(e.httpStatus, 502);
  });
});

describe('errnoCode', () => {
  test('the string code of a system error', () => {
    assert.equal(errnoCode(Object.assign(new Error('x'), { code: 'ECONNRESET' })), 'ECONNRESET');
    assert.equal(errnoCode({ code: 'EPIPE' }), 'EPIPE');
  });
  test('anything else → undefined', () => {
    assert.equal(errnoCode(new Error('no code')), undefined);
    assert.equal(errnoCode({ code: 42 }), undefined);
    assert.equal(errnoCode('ECONNRESET'), undefined);
    assert.equal(errnoCode(null), undefined);
    assert.equal(errnoCode(undefined), undefined);
    assert.equal(errnoCode(7), undefined);
  });
});
