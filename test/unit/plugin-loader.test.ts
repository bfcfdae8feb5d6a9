// Pure checks around the operator's own plugin modules.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validDecision } from '../../src/auth/custom.js';
import { hideSecret, isModulePath } from '../../src/plugin-loader.js';
import { safeErrorText, validTarget } from '../../src/targets/custom.js';

describe('plugin modules', () => {
  test('isModulePath: a slash or a .js/.mjs ending means a file, anything else a built-in name', () => {
    for (const p of ['./r.js', '/abs/r.mjs', 'r.js', 'R.MJS', 'dir/r', '../x']) assert.ok(isModulePath(p), p);
    for (const p of ['TokenFile', 'websockify.token_plugins.TokenFile', 'BasicHTTPAuth', 'mypkg.MyPlugin'])
      assert.ok(!isModulePath(p), p);
  });

  test('validTarget accepts tcp (numeric or digit-string port, bracketed v6) and absolute unix paths only', () => {
    assert.deepEqual(validTarget({ kind: 'tcp', host: 'vnc', port: 5900 }), { kind: 'tcp', host: 'vnc', port: 5900 });
    assert.deepEqual(validTarget({ host: '[::1]', port: '5901' }), { kind: 'tcp', host: '::1', port: 5901 });
    assert.deepEqual(validTarget({ kind: 'unix', path: '/run/vnc.sock' }), { kind: 'unix', path: '/run/vnc.sock' });
    for (const bad of [
      null,
      'vnc:5900',
      { host: 'vnc' },
      { host: '', port: 1 },
      { host: 'h', port: 0 },
      { host: 'h', port: 70000 },
      { host: 'h', port: 1.5 },
      { kind: 'unix', path: 'rel.sock' },
      { kind: 'udp', host: 'h', port: 1 },
    ]) {
      assert.equal(validTarget(bad), undefined, JSON.stringify(bad));
    }
  });

  test('safeErrorText keeps the first line and hides the token', () => {
    assert.equal(
      safeErrorText(new TypeError('no row for abc123\nstack-ish detail abc123'), 'abc123'),
      'TypeError: no row for ***',
    );
    assert.equal(safeErrorText('plain abc', 'abc'), 'plain ***');
  });

  test('hideSecret replaces every occurrence and leaves text alone without a secret', () => {
    assert.equal(hideSecret('bad source pw:pw', 'pw'), 'bad source ***:***');
    assert.equal(hideSecret('nothing here', undefined), 'nothing here');
    assert.equal(hideSecret('nothing here', ''), 'nothing here');
  });

  test('validDecision keeps well-formed decisions and drops header injection', () => {
    assert.deepEqual(validDecision({ kind: 'allow', identity: 'ann' }), { kind: 'allow', identity: 'ann' });
    assert.deepEqual(validDecision({ kind: 'allow', identity: 7 }), { kind: 'allow' });
    assert.deepEqual(
      validDecision({
        kind: 'deny',
        status: 401,
        reason: 'r',
        headers: { 'WWW-Authenticate': 'Bearer', 'X-Bad': 'a\r\nSet-Cookie: x=1', 'bad name': 'v' },
      }),
      {
        kind: 'deny',
        status: 401,
        reason: 'r',
        headers: { 'WWW-Authenticate': 'Bearer' },
      },
    );
    for (const bad of [undefined, true, { kind: 'deny', status: 500 }, { kind: 'maybe' }])
      assert.equal(validDecision(bad), undefined);
  });
});
