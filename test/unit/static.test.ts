import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentTypeOf, resolveStaticPath } from '../../src/http/static.js';

const segs = (p: string): string[] | number => {
  const r = resolveStaticPath(p);
  return r.ok ? r.segments : r.status;
};

test('paths map to segments below the root', () => {
  assert.deepEqual(segs('/'), []);
  assert.deepEqual(segs('/a/b.html'), ['a', 'b.html']);
  assert.deepEqual(segs('/a//b'), ['a', 'b']);
  assert.deepEqual(segs('/%20space.txt'), [' space.txt']);
});

test('traversal, encoded separators and dotfiles are 404; NUL, bad escapes and relative paths are 400', () => {
  assert.equal(segs('/../etc/passwd'), 404);
  assert.equal(segs('/%2e%2e/x'), 404);
  assert.equal(segs('/a%2fb'), 404);
  assert.equal(segs('/a%5cb'), 404);
  assert.equal(segs('/a\\b'), 404);
  assert.equal(segs('/.git/config'), 404);
  assert.equal(segs('/.env'), 404);
  assert.equal(segs('/x%00'), 400);
  assert.equal(segs('/%E0%A4%A'), 400);
  assert.equal(segs('relative'), 400);
  assert.equal(segs('//evil.example/%2f..'), 404);
});

test('content types', () => {
  assert.equal(contentTypeOf('a.html'), 'text/html; charset=utf-8');
  assert.equal(contentTypeOf('a.js'), 'text/javascript; charset=utf-8');
  assert.equal(contentTypeOf('a.css'), 'text/css; charset=utf-8');
  assert.equal(contentTypeOf('a.png'), 'image/png');
  assert.equal(contentTypeOf('a.unknownext'), 'application/octet-stream');
});
