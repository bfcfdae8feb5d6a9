// Pure parts of the operations features: the bearer comparison, which log lines count as refusals, and the strict
// Prometheus parser the e2e tests rely on (the admin options' parsing is in unit/config/admin and addresses).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { refusalReason } from '../../../src/admin/metrics.js';
import { bearerMatches } from '../../../src/admin/server.js';
import { parsePrometheus, sampleValue } from '../../helpers/prom.js';

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
