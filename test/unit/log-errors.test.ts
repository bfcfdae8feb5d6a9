import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { REASONS, ProxyError, closeCodeOf, errnoCode, httpStatusOf, isHttpReason, type ReasonCode } from '../../src/errors.js';
import { createLogger, redactUrl } from '../../src/log.js';
import { connectFailureReason } from '../../src/relay/connect.js';

function capture(level: 'debug' | 'info' = 'debug', format: 'text' | 'json' = 'text') {
  const lines: string[] = [];
  const log = createLogger({ level, format, sink: { write: (l: string) => lines.push(l) }, now: () => new Date(0) });
  return { log, lines };
}

describe('logger', () => {
  test('redactUrl hides secret query values', () => {
    assert.equal(redactUrl('/websockify?token=abc&x=1'), '/websockify?token=***&x=1');
    assert.equal(redactUrl('/p?a=1&password=hunter2'), '/p?a=1&password=***');
  });
  test('text lines carry level, message and fields; secrets never appear', () => {
    const { log, lines } = capture();
    log.info('hello world', { path: '/w?token=s3cr3t', password: 'hunter2', token: 'tok', authorization: 'Basic x', cookie: 'c=1', key_password: 'kp', token_hash: 'ab12', n: 3 });
    const line = lines[0] ?? '';
    assert.match(line, /^1970-01-01T00:00:00\.000Z INFO {2}hello world /);
    assert.match(line, / n=3/);
    assert.match(line, / token_hash=ab12/);
    for (const secret of ['s3cr3t', 'hunter2', 'tok ', 'Basic x', 'c=1', 'kp']) assert.ok(!line.includes(secret), `${secret} leaked: ${line}`);
  });
  test('levels filter; child adds fields; json parses; values with spaces are quoted', () => {
    const { log, lines } = capture('info');
    log.debug('dropped');
    log.child({ conn: 7 }).warn('w', { what: 'two words' });
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /conn=7 what="two words"/);
    const j = capture('debug', 'json');
    j.log.error('boom', { code: 'X' });
    const parsed = JSON.parse(j.lines[0] ?? '') as Record<string, unknown>;
    assert.deepEqual(parsed, { time: '1970-01-01T00:00:00.000Z', level: 'error', msg: 'boom', code: 'X' });
  });
});

describe('error catalogue', () => {
  test('every code has a text and a status or close code consistent with the helpers', () => {
    for (const code of Object.keys(REASONS) as ReasonCode[]) {
      assert.ok(REASONS[code].text.length > 10, code);
      assert.equal(isHttpReason(code), httpStatusOf(code) !== undefined);
    }
    assert.equal(new ProxyError('TARGET_TIMEOUT').httpStatus, 504);
    assert.equal(new ProxyError('TARGET_REFUSED').httpStatus, 502);
    assert.equal(closeCodeOf('TEXT_FRAME'), 1003);
    assert.equal(closeCodeOf('MESSAGE_TOO_BIG'), 1009);
    assert.equal(closeCodeOf('TARGET_CLOSED'), 1000);
    assert.equal(errnoCode(Object.assign(new Error('x'), { code: 'ECONNRESET' })), 'ECONNRESET');
    assert.equal(errnoCode('nope'), undefined);
  });
  test('connect failures map to reasons', () => {
    const e = (code: string): Error => Object.assign(new Error(code), { code });
    assert.equal(connectFailureReason(e('ECONNREFUSED')), 'TARGET_REFUSED');
    assert.equal(connectFailureReason(e('ENOENT')), 'TARGET_REFUSED');
    assert.equal(connectFailureReason(e('EHOSTUNREACH')), 'TARGET_UNREACHABLE');
    assert.equal(connectFailureReason(e('ENOTFOUND')), 'TARGET_DNS');
    assert.equal(connectFailureReason(e('ETIMEDOUT')), 'TARGET_TIMEOUT');
    assert.equal(connectFailureReason(e('EWHATEVER')), 'TARGET_FAILED');
  });
});
