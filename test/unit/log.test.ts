import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createLogger, fdSink, redactUrl, silentLogger, type LogLevel } from '../../src/log.js';

function capture(level: LogLevel = 'debug', format: 'text' | 'json' = 'text') {
  const lines: string[] = [];
  const log = createLogger({ level, format, sink: { write: (l: string) => lines.push(l) }, now: () => new Date(0) });
  return { log, lines };
}

function only(lines: readonly string[]): string {
  assert.equal(lines.length, 1, `expected one line, got ${JSON.stringify(lines)}`);
  return lines[0] ?? '';
}

const SECRETS = {
  password: 'hunter2',
  token: 'tok3n',
  authorization: 'Basic dXNlcjpwdw==',
  cookie: 'sid=c00k1e',
  key_password: 'kp-s3cret',
};

describe('redactUrl', () => {
  test('hides token= and password= values, keeps the rest', () => {
    assert.equal(redactUrl('/websockify?token=abc&x=1'), '/websockify?token=***&x=1');
    assert.equal(redactUrl('/p?a=1&password=hunter2'), '/p?a=1&password=***');
    assert.equal(redactUrl('/p?TOKEN=abc#frag'), '/p?TOKEN=***#frag');
    assert.equal(redactUrl('/p?token=a&token=b'), '/p?token=***&token=***');
  });
  test('hides the password of scheme://user:password@ (a redis:// source), keeps the user and host', () => {
    assert.equal(redactUrl('redis://:pw1@127.0.0.1:6379/0'), 'redis://:***@127.0.0.1:6379/0');
    assert.equal(
      redactUrl('failed: rediss://user:p%40ss@h:6390/3?namespace=x'),
      'failed: rediss://user:***@h:6390/3?namespace=x',
    );
    assert.equal(redactUrl('http://user@host/ and a@b.example'), 'http://user@host/ and a@b.example');
  });
  test('leaves other parameters and plain paths alone', () => {
    assert.equal(redactUrl('/websockify?x=1&y=2'), '/websockify?x=1&y=2');
    assert.equal(redactUrl('/token=abc'), '/token=abc');
    assert.equal(redactUrl('/p?monkey=abc'), '/p?monkey=abc');
    assert.equal(redactUrl(''), '');
  });
});

describe('createLogger, text format', () => {
  test('one line with time, level, message and key=value fields', () => {
    const { log, lines } = capture();
    log.info('hello world', { n: 3, ok: true, name: 'x' });
    const line = only(lines);
    assert.equal(line, '1970-01-01T00:00:00.000Z INFO  hello world n=3 ok=true name=x\n');
  });
  test('every level is written in upper case', () => {
    const { log, lines } = capture();
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    assert.deepEqual(
      lines.map((l) => l.split(' ')[1]),
      ['DEBUG', 'INFO', 'WARN', 'ERROR'],
    );
  });
  test('secret-looking keys print *** and their values never appear', () => {
    const { log, lines } = capture();
    log.info('connect', { ...SECRETS, Authorization: 'Bearer abc.def', api_secret: 's3', n: 1 });
    const line = only(lines);
    for (const key of [...Object.keys(SECRETS), 'Authorization', 'api_secret'])
      assert.match(line, new RegExp(` ${key}=\\*\\*\\*( |\\n)`), key);
    for (const value of [...Object.values(SECRETS), 'Bearer abc.def', 's3 '])
      assert.ok(!line.includes(value), `${value} leaked: ${line}`);
    assert.match(line, / n=1\n$/);
  });
  test('secrets are hidden whatever the value type', () => {
    const { log, lines } = capture();
    log.info('m', { password: 12345678, token: { nested: 'deep-s3cret' }, cookie: new Error('err-s3cret') });
    const line = only(lines);
    assert.ok(!line.includes('12345678') && !line.includes('deep-s3cret') && !line.includes('err-s3cret'), line);
  });
  test('a key ending in _hash is not redacted', () => {
    const { log, lines } = capture();
    log.info('m', { token_hash: 'ab12', password_hash: 'cd34' });
    const line = only(lines);
    assert.match(line, / token_hash=ab12 /);
    assert.match(line, / password_hash=cd34\n/);
  });
  test('URLs inside values and the message are redacted', () => {
    const { log, lines } = capture();
    log.info('GET /w?token=msg-s3cret', { path: '/websockify?token=s3cr3t&x=1' });
    const line = only(lines);
    assert.match(line, / path="\/websockify\?token=\*\*\*&x=1"/);
    assert.ok(!line.includes('s3cr3t') && !line.includes('msg-s3cret'), line);
  });
  test('Error values print their (redacted) message', () => {
    const { log, lines } = capture();
    log.error('boom', { error: new Error('GET /p?password=pw1 failed') });
    const line = only(lines);
    assert.match(line, /error="GET \/p\?password=\*\*\* failed"/);
    assert.ok(!line.includes('pw1'));
  });
  test('values with spaces, quotes or = are quoted; empty strings too', () => {
    const { log, lines } = capture();
    log.info('m', { what: 'two words', q: 'say "hi"', eq: 'a=b', empty: '', nl: 'a\nb' });
    const line = only(lines);
    assert.match(line, / what="two words"/);
    assert.match(line, / q="say \\"hi\\""/);
    assert.match(line, / eq="a=b"/);
    assert.match(line, / empty=""/);
    assert.match(line, / nl="a\\nb"\n$/);
    assert.equal(line.split('\n').length, 2, 'a newline in a value cannot start a new log line');
  });
  test('undefined fields are dropped', () => {
    const { log, lines } = capture();
    log.info('m', { gone: undefined, kept: 1 });
    const line = only(lines);
    assert.ok(!line.includes('gone'));
    assert.match(line, / kept=1/);
  });
});

describe('createLogger, levels and children', () => {
  test("level 'info' drops debug lines and keeps the rest", () => {
    const { log, lines } = capture('info');
    log.debug('dropped');
    log.info('i');
    log.warn('w');
    log.error('e');
    assert.equal(lines.length, 3);
    assert.ok(!lines.some((l) => l.includes('dropped')));
  });
  test("level 'error' keeps only errors", () => {
    const { log, lines } = capture('error');
    log.info('i');
    log.warn('w');
    log.error('e');
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', / ERROR e\n$/);
  });
  test('enabled() agrees with the threshold', () => {
    const { log } = capture('warn');
    assert.deepEqual(
      (['debug', 'info', 'warn', 'error'] as const).map((l) => log.enabled(l)),
      [false, false, true, true],
    );
    assert.equal(silentLogger.enabled('error'), false);
  });
  test('child() adds fields to every line, and a call can override them', () => {
    const { log, lines } = capture('info');
    const child = log.child({ conn: 7, peer: '10.0.0.1:5000' });
    child.warn('w', { what: 'two words' });
    child.child({ scheme: 'wss' }).info('i');
    child.info('o', { conn: 8 });
    log.info('parent');
    assert.equal(lines.length, 4);
    assert.match(lines[0] ?? '', / WARN {2}w conn=7 peer=10\.0\.0\.1:5000 what="two words"\n$/);
    assert.match(lines[1] ?? '', / conn=7 peer=10\.0\.0\.1:5000 scheme=wss\n$/);
    assert.match(lines[2] ?? '', / conn=8 /);
    assert.ok(!(lines[3] ?? '').includes('conn='), 'the parent is unchanged');
  });
  test('child fields are redacted too, and inherit the level', () => {
    const { log, lines } = capture('info');
    const child = log.child({ token: 'child-s3cret' });
    child.debug('dropped');
    child.info('i');
    const line = only(lines);
    assert.match(line, / token=\*\*\*/);
    assert.ok(!line.includes('child-s3cret'));
  });
});

describe('createLogger, redaction at any depth', () => {
  const DEEP = ['deep-1', 'deep-2', 'deep-3', 'deep-4', 'deep-5', 'deep-6', 'deep-7', 'deep-8'];
  test('secret keys inside objects and arrays, URLs and Errors inside them, in fields and in bindings', () => {
    for (const format of ['json', 'text'] as const) {
      const { log, lines } = capture('debug', format);
      log.child({ client: { api_key: 'deep-6', name: 'alice' } }).info('m', {
        request: { headers: { authorization: 'Bearer deep-1', cookie: 'deep-2', host: 'h' } },
        list: [{ password: 'deep-3' }, 'redis://:deep-4@h:1/0', new Error('GET /?token=deep-5')],
        url: new URL('http://h/p?secret=deep-7'),
      });
      const line = only(lines);
      for (const secret of DEEP) assert.ok(!line.includes(secret), `${format}: ${secret} leaked: ${line}`);
      if (format === 'json') {
        const parsed = JSON.parse(line) as {
          client: Record<string, unknown>;
          request: { headers: Record<string, unknown> };
          list: unknown[];
          url: string;
        };
        assert.deepEqual(parsed.client, { api_key: '***', name: 'alice' });
        assert.deepEqual(parsed.request.headers, { authorization: '***', cookie: '***', host: 'h' });
        assert.deepEqual(parsed.list, [{ password: '***' }, 'redis://:***@h:1/0', 'GET /?token=***']);
        assert.equal(parsed.url, 'http://h/p?secret=***');
      }
    }
  });
  test("the caller's objects are not changed", () => {
    const { log } = capture();
    const fields = { password: 'x', nested: { token: 'y' } };
    log.info('m', fields);
    log.child(fields).info('m');
    assert.deepEqual(fields, { password: 'x', nested: { token: 'y' } });
  });
  test('reference cycles and very deep values: no exception, and nothing past the depth limit is printed', () => {
    const { log, lines } = capture('debug', 'json');
    const cyclic: Record<string, unknown> = { n: 1 };
    cyclic['self'] = cyclic;
    let deep: Record<string, unknown> = { password: 'deep-8', note: 'deep-note' };
    for (let i = 0; i < 12; i++) deep = { d: deep };
    log.info('m', { cyclic, deep });
    const line = only(lines);
    assert.ok(!line.includes('deep-8') && !line.includes('deep-note'), line);
    assert.doesNotThrow(() => JSON.parse(line));
  });
});

describe('createLogger on pino', () => {
  test("JSON lines have pino's shape: level label, ISO time, the bindings, the fields, msg last", () => {
    const { log, lines } = capture('debug', 'json');
    log.child({ conn: 7, peer: '10.0.0.1:5000' }).child({ scheme: 'wss' }).warn('w', { n: 1 });
    assert.equal(
      only(lines),
      '{"level":"warn","time":"1970-01-01T00:00:00.000Z","conn":7,"peer":"10.0.0.1:5000","scheme":"wss","n":1,"msg":"w"}\n',
    );
  });
  test('a key bound again replaces the old value (once in the line)', () => {
    const { log, lines } = capture('debug', 'json');
    log.child({ conn: 1, a: 'x' }).child({ conn: 2 }).info('m');
    assert.equal(only(lines), '{"level":"info","time":"1970-01-01T00:00:00.000Z","conn":2,"a":"x","msg":"m"}\n');
  });
  test('a sink with writeAt gets every line with its level (syslog severity)', () => {
    const got: [LogLevel, string][] = [];
    const log = createLogger({
      level: 'debug',
      format: 'text',
      sink: { write: () => assert.fail('writeAt wins'), writeAt: (level, line) => got.push([level, line]) },
    });
    log.child({ c: 1 }).debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    assert.deepEqual(
      got.map(([level]) => level),
      ['debug', 'info', 'warn', 'error'],
    );
    assert.match(got[0]?.[1] ?? '', / DEBUG d c=1\n$/);
  });
  test('text lines print a Date as its ISO time', () => {
    const { log, lines } = capture();
    log.info('m', { at: new Date(0) });
    assert.match(only(lines), / at=1970-01-01T00:00:00\.000Z\n$/);
  });
});

describe('fdSink', () => {
  test('a line is in the file when write() returns (synchronous, nothing buffered)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'wsproxy-log-')), 'out.log');
    const fd = openSync(file, 'a');
    const log = createLogger({ level: 'info', format: 'json', sink: fdSink(fd) });
    log.info('first', { n: 1 });
    assert.match(readFileSync(file, 'utf8'), /"n":1,"msg":"first"\}\n$/);
    log.info('second');
    assert.equal(readFileSync(file, 'utf8').split('\n').length, 3);
    closeSync(fd);
  });
  test('a failing descriptor reports through onError and never throws', () => {
    const fd = openSync(join(mkdtempSync(join(tmpdir(), 'wsproxy-log-')), 'x.log'), 'a');
    closeSync(fd);
    const errors: string[] = [];
    const sink = fdSink(fd, (err) => errors.push((err as NodeJS.ErrnoException).code ?? err.message));
    assert.doesNotThrow(() => sink.write('a line\n'));
    assert.deepEqual(errors, ['EBADF']);
  });
  test('a full non-blocking pipe: waits up to the stall time once, then drops whole lines until it is read again', () => {
    // A FIFO opened read-write and non-blocking: this test is its writer and its (late) reader.
    const fifo = join(mkdtempSync(join(tmpdir(), 'wsproxy-log-')), 'fifo');
    execFileSync('mkfifo', [fifo]);
    const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    const errors: string[] = [];
    const sink = fdSink(fd, (err) => errors.push((err as NodeJS.ErrnoException).code ?? ''), 50);
    const line = 'x'.repeat(999) + '\n';
    const started = Date.now();
    for (let i = 0; i < 200; i++) sink.write(line); // 200 KB into a 64 KiB pipe
    const took = Date.now() - started;
    assert.ok(took >= 50 && took < 2_000, `one stall of ~50 ms, then no more waiting (took ${took} ms)`);
    assert.deepEqual(errors, ['EAGAIN'], 'reported once per stall');
    const drain = (): string => {
      const chunks: Buffer[] = [];
      const buf = Buffer.alloc(65536);
      for (;;) {
        try {
          const n = readSync(fd, buf);
          if (n === 0) break;
          chunks.push(Buffer.from(buf.subarray(0, n)));
        } catch {
          break; // EAGAIN: empty
        }
      }
      return Buffer.concat(chunks).toString();
    };
    const before = drain();
    assert.ok(before.length > 0 && before.length % line.length === 0, `only whole lines (${before.length} bytes)`);
    sink.write('after\n');
    assert.equal(drain(), 'after\n', 'written again once the pipe has room');
    closeSync(fd);
  });
});

describe('createLogger, json format', () => {
  test('each line parses and has time, level and msg', () => {
    const { log, lines } = capture('debug', 'json');
    log.error('boom', { code: 'X', n: 2 });
    const line = only(lines);
    assert.ok(line.endsWith('\n'));
    const parsed = JSON.parse(line) as Record<string, unknown>;
    assert.deepEqual(parsed, { time: '1970-01-01T00:00:00.000Z', level: 'error', msg: 'boom', code: 'X', n: 2 });
  });
  test('secrets are redacted in JSON as well', () => {
    const { log, lines } = capture('debug', 'json');
    log.child({ conn: 1 }).info('m', { ...SECRETS, token_hash: 'ab12', path: '/w?token=s3cr3t' });
    const line = only(lines);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    for (const key of Object.keys(SECRETS)) assert.equal(parsed[key], '***', key);
    assert.equal(parsed['token_hash'], 'ab12');
    assert.equal(parsed['path'], '/w?token=***');
    assert.equal(parsed['conn'], 1);
    for (const value of [...Object.values(SECRETS), 's3cr3t']) assert.ok(!line.includes(value), `${value} leaked`);
  });
  test('the clock defaults to now', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', format: 'json', sink: { write: (l: string) => lines.push(l) } });
    const before = Date.now();
    log.info('t');
    const parsed = JSON.parse(only(lines)) as { time: string };
    const t = Date.parse(parsed.time);
    assert.ok(t >= before - 1000 && t <= Date.now() + 1000, parsed.time);
  });
});
