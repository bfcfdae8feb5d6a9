// Pure parts of the admin listener: the bearer comparison and the routes' methods (the admin options' parsing is
// in unit/config/admin and addresses).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allowedMethods, bearerMatches } from '../../../src/admin/server.js';

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

describe('allowedMethods', () => {
  test('read routes take GET and HEAD, one session DELETE, /reload POST only when the server can reload', () => {
    for (const path of ['/metrics', '/healthz', '/readyz', '/sessions'])
      assert.equal(allowedMethods(path, false), 'GET, HEAD');
    assert.equal(allowedMethods('/sessions/12', false), 'DELETE');
    assert.equal(allowedMethods('/sessions/12/x', false), undefined);
    assert.equal(allowedMethods('/reload', true), 'POST');
    assert.equal(allowedMethods('/reload', false), undefined);
    assert.equal(allowedMethods('/', true), undefined);
  });
});
