import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { contentTypeOf, resolveStaticPath } from '../../../src/http/static.js';

/** The segments of an accepted path, or the status of a refused one. */
const segs = (p: string): string[] | number => {
  const r = resolveStaticPath(p);
  return r.ok ? r.segments : r.status;
};

describe('resolveStaticPath', () => {
  test('the root is no segments', () => {
    assert.deepEqual(segs('/'), []);
    assert.deepEqual(segs('//'), []);
  });
  test('paths map to segments; empty segments are dropped', () => {
    assert.deepEqual(segs('/a/b.html'), ['a', 'b.html']);
    assert.deepEqual(segs('/a//b'), ['a', 'b']);
    assert.deepEqual(segs('/a/b/'), ['a', 'b']);
    assert.deepEqual(segs('/vnc.html'), ['vnc.html']);
    assert.deepEqual(segs('/a..b/c.'), ['a..b', 'c.']); // dots inside or at the end of a name are fine
  });
  test('each segment is percent-decoded exactly once', () => {
    assert.deepEqual(segs('/%20space.txt'), [' space.txt']);
    assert.deepEqual(segs('/%C3%A9t%C3%A9.txt'), ['été.txt']);
    assert.deepEqual(segs('/%252e%252e/x'), ['%2e%2e', 'x']); // a literal name, not a second decode
  });
  test('traversal is 404', () => {
    assert.equal(segs('/../etc/passwd'), 404);
    assert.equal(segs('/a/../../etc/passwd'), 404);
    assert.equal(segs('/..'), 404);
    assert.equal(segs('/%2e%2e/x'), 404);
    assert.equal(segs('/%2E%2E/x'), 404);
    assert.equal(segs('/.%2e/x'), 404);
    assert.equal(segs('/a/./b'), 404);
  });
  test('encoded slashes and backslashes are 404', () => {
    assert.equal(segs('/a%2fb'), 404);
    assert.equal(segs('/a%2Fb'), 404);
    assert.equal(segs('/..%2fetc'), 404);
    assert.equal(segs('/a%5cb'), 404);
    assert.equal(segs('/a\\b'), 404);
    assert.equal(segs('/..\\etc'), 404);
    assert.equal(segs('//evil.example/%2f..'), 404);
  });
  test('dotfiles and dot directories are 404', () => {
    assert.equal(segs('/.git/config'), 404);
    assert.equal(segs('/.env'), 404);
    assert.equal(segs('/a/.htaccess'), 404);
    assert.equal(segs('/%2egit/config'), 404);
  });
  test('NUL is 400', () => {
    assert.equal(segs('/x%00'), 400);
    assert.equal(segs('/a%00b/c'), 400);
    assert.equal(segs('/x\0'), 400);
  });
  test('malformed escapes are 400', () => {
    assert.equal(segs('/%E0%A4%A'), 400);
    assert.equal(segs('/%'), 400);
    assert.equal(segs('/%zz'), 400);
    assert.equal(segs('/%C3'), 400); // a lone UTF-8 lead byte
  });
  test('a path without a leading slash is 400', () => {
    assert.equal(segs('relative'), 400);
    assert.equal(segs(''), 400);
    assert.equal(segs('a/b'), 400);
    assert.equal(segs('http://evil.example/'), 400);
  });
});

describe('contentTypeOf', () => {
  test('text types carry a UTF-8 charset', () => {
    assert.equal(contentTypeOf('a.html'), 'text/html; charset=utf-8');
    assert.equal(contentTypeOf('a.js'), 'text/javascript; charset=utf-8');
    assert.equal(contentTypeOf('a.mjs'), 'text/javascript; charset=utf-8');
    assert.equal(contentTypeOf('a.css'), 'text/css; charset=utf-8');
    assert.equal(contentTypeOf('a.txt'), 'text/plain; charset=utf-8');
    assert.equal(contentTypeOf('a.json'), 'application/json; charset=utf-8');
  });
  test('binary types have no charset', () => {
    assert.equal(contentTypeOf('a.png'), 'image/png');
    assert.equal(contentTypeOf('a.svg'), 'image/svg+xml');
    assert.equal(contentTypeOf('a.wasm'), 'application/wasm');
  });
  test('full paths and upper-case extensions', () => {
    assert.equal(contentTypeOf('/usr/share/novnc/vnc.html'), 'text/html; charset=utf-8');
    assert.equal(contentTypeOf('/srv/INDEX.HTML'), 'text/html; charset=utf-8');
  });
  test('unknown or missing extensions → application/octet-stream', () => {
    assert.equal(contentTypeOf('a.unknownext'), 'application/octet-stream');
    assert.equal(contentTypeOf('/srv/web/README'), 'application/octet-stream');
  });
});
