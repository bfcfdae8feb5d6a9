// Pure parts of the operations features: --admin-listen / --admin-token-file / --drain-timeout parsing, the bearer
// comparison, which log lines count as refusals, and the strict Prometheus parser the e2e tests rely on.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { refusalReason } from '../../../src/admin/metrics.js';
import { bearerMatches } from '../../../src/admin/server.js';
import { parseAdminListen } from '../../../src/config/addresses.js';
import { resolveConfig } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/errors.js';
import { parsePrometheus, sampleValue } from '../../helpers/prom.js';
import { cliArgs } from '../../helpers/config.js';

const args = cliArgs;

function configError(fn: () => unknown, flag: string, message: RegExp): void {
  assert.throws(
    fn,
    (err: unknown) =>
      err instanceof ConfigError && err.flag === flag && message.test(err.message) && !err.message.includes('\n'),
  );
}

describe('--admin-listen', () => {
  test('a port alone listens on loopback only; host:port, [v6]:port and unix:/path', () => {
    assert.deepEqual(parseAdminListen('9090', '/'), { kind: 'tcp', host: '127.0.0.1', port: 9090 });
    assert.deepEqual(parseAdminListen('0.0.0.0:9090', '/'), { kind: 'tcp', host: '0.0.0.0', port: 9090 });
    assert.deepEqual(parseAdminListen('[::1]:0', '/'), { kind: 'tcp', host: '::1', port: 0 });
    assert.deepEqual(parseAdminListen('unix:run/admin.sock', '/srv'), { kind: 'unix', path: '/srv/run/admin.sock' });
  });

  test('malformed values name the flag', () => {
    configError(() => parseAdminListen(':9090', '/'), '--admin-listen', /host:port/);
    configError(() => parseAdminListen('unix:', '/'), '--admin-listen', /socket path/);
    configError(() => parseAdminListen('localhost:99999', '/'), '--admin-listen', /out of range/);
    configError(() => parseAdminListen('localhost:http', '/'), '--admin-listen', /not a port/);
    configError(() => parseAdminListen('fe80:zz:1:9090', '/'), '--admin-listen', /not host:port/);
  });
});

describe('resolveConfig: operations options', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsproxy-admin-unit-'));

  test('defaults: no admin listener, 30 s drain', () => {
    const c = resolveConfig(args(), '/', {});
    assert.equal(c.admin, undefined);
    assert.equal(c.lifecycle?.drainTimeoutMs, 30_000);
    assert.equal(resolveConfig(args({ drainTimeout: '0' }), '/', {}).lifecycle?.drainTimeoutMs, 0);
    assert.equal(resolveConfig(args({ drainTimeout: '2.5' }), '/', {}).lifecycle?.drainTimeoutMs, 2_500);
    configError(() => resolveConfig(args({ drainTimeout: 'soon' }), '/', {}), '--drain-timeout', /seconds/);
  });

  test('the token file is read and trimmed; the token never appears in errors', () => {
    const file = join(dir, 'token');
    writeFileSync(file, 's3cr3t-admin-token\n');
    assert.deepEqual(resolveConfig(args({ adminListen: '9090', adminTokenFile: file }), '/', {}).admin, {
      listen: { kind: 'tcp', host: '127.0.0.1', port: 9090 },
      token: 's3cr3t-admin-token',
      tokenFile: file,
    });
    const spaced = join(dir, 'spaced');
    writeFileSync(spaced, 'two words-secret\n');
    assert.throws(
      () => resolveConfig(args({ adminListen: '9090', adminTokenFile: spaced }), '/', {}),
      (err: unknown) =>
        err instanceof ConfigError && err.flag === '--admin-token-file' && !err.message.includes('words-secret'),
    );
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    configError(
      () => resolveConfig(args({ adminListen: '9090', adminTokenFile: empty }), '/', {}),
      '--admin-token-file',
      /one token/,
    );
    configError(
      () => resolveConfig(args({ adminListen: '9090', adminTokenFile: join(dir, 'missing') }), '/', {}),
      '--admin-token-file',
      /ENOENT/,
    );
    configError(
      () => resolveConfig(args({ adminTokenFile: file }), '/', {}),
      '--admin-token-file',
      /needs --admin-listen/,
    );
  });
});

describe('bearerMatches', () => {
  test('only the exact token in a Bearer header matches', () => {
    assert.equal(bearerMatches('Bearer abc123', 'abc123'), true);
    assert.equal(bearerMatches('bearer abc123', 'abc123'), true);
    assert.equal(bearerMatches('Bearer abc1234', 'abc123'), false);
    assert.equal(bearerMatches('Bearer abc12', 'abc123'), false);
    assert.equal(bearerMatches('Basic abc123', 'abc123'), false);
    assert.equal(bearerMatches('abc123', 'abc123'), false);
    assert.equal(bearerMatches('Bearer ', 'abc123'), false);
    assert.equal(bearerMatches(undefined, 'abc123'), false);
  });
});

describe('refusalReason', () => {
  test('HTTP refusals (with status), dropped connections; not session ends or client hiccups', () => {
    assert.equal(refusalReason({ reason: 'TOKEN_UNKNOWN', status: 404 }), 'TOKEN_UNKNOWN');
    assert.equal(refusalReason({ reason: 'TOKEN_UNKNOWN' }), undefined);
    assert.equal(refusalReason({ reason: 'HANDSHAKE_TIMEOUT' }), 'HANDSHAKE_TIMEOUT');
    assert.equal(refusalReason({ reason: 'CONNECTION_LIMIT_PER_IP' }), 'CONNECTION_LIMIT_PER_IP');
    for (const reason of [
      'CLIENT_LEFT_EARLY',
      'PROXY_HEADER_INCOMPLETE',
      'CLIENT_RESET',
      'CLIENT_TLS_ERROR',
      'CLIENT_LEFT_UPGRADE',
      'UPSTREAM_CLIENT_GONE',
    ]) {
      assert.equal(refusalReason({ reason }), undefined, reason);
    }
    assert.equal(refusalReason({ reason: 'CLIENT_CLOSED', close_code: 1000 }), undefined);
    assert.equal(refusalReason({ reason: 'TARGET_CLOSED' }), undefined);
    assert.equal(refusalReason({ reason: 'NOT_A_CODE', status: 400 }), undefined);
    assert.equal(refusalReason({ reason: 'toString', status: 400 }), undefined);
    assert.equal(refusalReason({}), undefined);
  });
});

describe('parsePrometheus (test helper)', () => {
  test('reads types, labels with escapes, histograms and special values', () => {
    const m = parsePrometheus(
      [
        '# HELP a_total Things.',
        '# TYPE a_total counter',
        'a_total{x="q\\"uote",y="back\\\\slash\\n"} 3',
        '# TYPE h histogram',
        'h_bucket{le="1"} 1',
        'h_bucket{le="+Inf"} 2',
        'h_sum 3.5',
        'h_count 2',
        '# TYPE g gauge',
        'g NaN',
        '',
      ].join('\n'),
    );
    assert.equal(sampleValue(m, 'a_total', { x: 'q"uote', y: 'back\\slash\n' }), 3);
    assert.equal(m.get('a_total')?.help, 'Things.');
    assert.equal(sampleValue(m, 'h_count'), 2);
    assert.ok(Number.isNaN(sampleValue(m, 'g')));
  });

  test('rejects what Prometheus rejects', () => {
    assert.throws(() => parsePrometheus('x 1\n'), /no TYPE/);
    assert.throws(() => parsePrometheus('# TYPE x gauge\nx 1\nx 2\n'), /duplicate/);
    assert.throws(() => parsePrometheus('# TYPE x gauge\nx{a="\\t"} 1\n'), /bad escape/);
    assert.throws(() => parsePrometheus('# TYPE x gauge\nx one\n'), /not a number/);
    assert.throws(() => parsePrometheus('# TYPE x gauge\nx 1'), /newline/);
    assert.throws(() => parsePrometheus('# TYPE x thing\n'), /unknown type/);
    assert.throws(() => parsePrometheus('# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_count 3\n'), /disagree/);
  });
});
