import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../src/errors.js';
import {
  DEFAULTS,
  defaultStateDir,
  normaliseOrigin,
  parseListenAddress,
  parseSeconds,
  parseSize,
  parseTargetAddress,
  resolveConfig,
  resolveWorkers,
  splitHostPort,
  type CliArgs,
} from '../../src/config.js';
import { cliArgs } from '../helpers/config.js';

/** A full set of command-line values as cli.ts delivers them (every numeric field a string). */
const args = cliArgs;

/**
 * Asserts `fn` throws a ConfigError for `flag` whose message is one line, names the argument (`names`, the flag
 * itself unless given) and matches `pattern`.
 */
function configError(fn: () => unknown, flag: string, pattern: RegExp, names: RegExp | string = flag): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.name, 'ConfigError');
    assert.equal(err.flag, flag);
    assert.ok(err.message.length > 0);
    assert.doesNotMatch(err.message, /[\r\n]/, 'the message is one line');
    if (typeof names === 'string') assert.ok(err.message.includes(names), `'${err.message}' should name ${names}`);
    else assert.match(err.message, names);
    assert.match(err.message, pattern);
    return true;
  });
}

// The positional listen address is called "listen address" in messages, or by its usage name.
const LISTEN = /listen address|source_port/;

// An existing regular file that needs no set-up: this compiled test file.
const EXISTING_FILE = fileURLToPath(import.meta.url);

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wsproxy-unit-'));
  tempDirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('splitHostPort', () => {
  test('a port alone has no host', () => {
    assert.deepEqual(splitHostPort('6080'), { host: undefined, port: '6080' });
  });
  test('host:port, [v6]:port and the unbracketed websockify form (last colon wins)', () => {
    assert.deepEqual(splitHostPort('127.0.0.1:6080'), { host: '127.0.0.1', port: '6080' });
    assert.deepEqual(splitHostPort('[::1]:6080'), { host: '::1', port: '6080' });
    assert.deepEqual(splitHostPort('::1:6080'), { host: '::1', port: '6080' });
    assert.deepEqual(splitHostPort('[2001:db8::1]:5900'), { host: '2001:db8::1', port: '5900' });
    assert.deepEqual(splitHostPort(':6080'), { host: '', port: '6080' });
  });
  test('an unterminated or port-less bracket is left whole, with no port', () => {
    assert.deepEqual(splitHostPort('[::1'), { host: '[::1', port: '' });
    assert.deepEqual(splitHostPort('[::1]'), { host: '[::1]', port: '' });
  });
});

describe('parseListenAddress', () => {
  test('a bare port listens on every interface (host undefined)', () => {
    const a = parseListenAddress('6080');
    assert.deepEqual(a, { kind: 'tcp', host: undefined, port: 6080 });
    assert.ok('host' in a);
    assert.equal(a.host, undefined);
  });
  test('websockify listen forms', () => {
    assert.deepEqual(parseListenAddress('127.0.0.1:6080'), { kind: 'tcp', host: '127.0.0.1', port: 6080 });
    assert.deepEqual(parseListenAddress('[::1]:6080'), { kind: 'tcp', host: '::1', port: 6080 });
    assert.deepEqual(parseListenAddress('::1:6080'), { kind: 'tcp', host: '::1', port: 6080 });
    assert.deepEqual(parseListenAddress('0.0.0.0:1'), { kind: 'tcp', host: '0.0.0.0', port: 1 });
    assert.deepEqual(parseListenAddress('65535'), { kind: 'tcp', host: undefined, port: 65535 });
  });
  test('port 0 (pick a free port) is allowed for listening', () => {
    assert.deepEqual(parseListenAddress('localhost:0'), { kind: 'tcp', host: 'localhost', port: 0 });
    assert.deepEqual(parseListenAddress('0'), { kind: 'tcp', host: undefined, port: 0 });
  });
  test('bad ports', () => {
    configError(() => parseListenAddress('70000'), 'source_port', /out of range/);
    configError(() => parseListenAddress('65536'), 'source_port', /out of range/);
    configError(() => parseListenAddress('127.0.0.1:70000'), 'source_port', /out of range/);
    configError(() => parseListenAddress('abc'), 'source_port', /not a port/);
    configError(() => parseListenAddress(''), 'source_port', /not a port/);
    configError(() => parseListenAddress('-1'), 'source_port', /not a port/);
    configError(() => parseListenAddress('60.80'), 'source_port', /not a port/);
    configError(() => parseListenAddress('localhost:'), 'source_port', /not a port/);
    configError(() => parseListenAddress('[::1]:abc'), 'source_port', /not a port/);
  });
  test('an empty host is refused', () => {
    configError(() => parseListenAddress(':6080'), 'source_port', /empty host/, LISTEN);
    configError(() => parseListenAddress('[]:6080'), 'source_port', /empty host/, LISTEN);
  });
  test('a colon host that is not IPv6 is refused', () => {
    configError(() => parseListenAddress('a:b:6080'), 'source_port', /not an IPv6 address/, LISTEN);
    configError(() => parseListenAddress('[::1]'), 'source_port', /not an IPv6 address/, LISTEN);
  });
});

describe('parseTargetAddress', () => {
  test('host:port and IPv6 forms', () => {
    assert.deepEqual(parseTargetAddress('localhost:5900'), { kind: 'tcp', host: 'localhost', port: 5900 });
    assert.deepEqual(parseTargetAddress('vnc.example:5901'), { kind: 'tcp', host: 'vnc.example', port: 5901 });
    assert.deepEqual(parseTargetAddress('10.0.0.2:5900'), { kind: 'tcp', host: '10.0.0.2', port: 5900 });
    assert.deepEqual(parseTargetAddress('[2001:db8::1]:5900'), { kind: 'tcp', host: '2001:db8::1', port: 5900 });
    assert.deepEqual(parseTargetAddress('::1:5900'), { kind: 'tcp', host: '::1', port: 5900 });
  });
  test('unix sockets', () => {
    assert.deepEqual(parseTargetAddress('unix:/run/x.sock'), { kind: 'unix', path: '/run/x.sock' });
    configError(() => parseTargetAddress('unix:run/x.sock'), 'target', /absolute/);
    configError(() => parseTargetAddress('unix:./x.sock'), 'target', /absolute/);
    configError(() => parseTargetAddress('unix:'), 'target', /absolute/);
  });
  test('a target needs a host and a port', () => {
    configError(() => parseTargetAddress('localhost'), 'target', /host and a port/);
    configError(() => parseTargetAddress('5900'), 'target', /host and a port/);
    configError(() => parseTargetAddress(':5900'), 'target', /host and a port/);
    configError(() => parseTargetAddress('localhost:'), 'target', /not a port/);
  });
  test('target ports: 0 and out-of-range are refused', () => {
    configError(() => parseTargetAddress('localhost:0'), 'target', /out of range/);
    configError(() => parseTargetAddress('localhost:70000'), 'target', /out of range/);
    configError(() => parseTargetAddress('localhost:vnc'), 'target', /not a port/);
  });
  test('an unbracketed colon host that is not IPv6 is refused, with the bracketed form as the fix', () => {
    configError(() => parseTargetAddress('a:b:5900'), 'target', /not an IPv6 address.*\[2001:db8::1\]:5900/);
    configError(() => parseTargetAddress('[a:b]:5900'), 'target', /not an IPv6 address/);
  });
});

describe('parseSize', () => {
  test('plain bytes and binary units, any case', () => {
    assert.equal(parseSize('65536', '--x'), 65536);
    assert.equal(parseSize('64KiB', '--x'), 65536);
    assert.equal(parseSize('64kb', '--x'), 65536);
    assert.equal(parseSize('16m', '--x'), 16 * 1024 * 1024);
    assert.equal(parseSize('16MiB', '--x'), 16 * 1024 * 1024);
    assert.equal(parseSize('1G', '--x'), 1024 ** 3);
    assert.equal(parseSize('1gib', '--x'), 1024 ** 3);
    assert.equal(parseSize('100b', '--x'), 100);
    assert.equal(parseSize(' 2 k ', '--x'), 2048);
  });
  test('fractions are allowed and rounded down to whole bytes', () => {
    assert.equal(parseSize('1.5k', '--x'), 1536);
    assert.equal(parseSize('0.5KiB', '--x'), 512);
    assert.equal(parseSize('1.5', '--x'), 1);
  });
  test('unknown units and non-numbers are refused with the flag named', () => {
    configError(() => parseSize('10XB', '--max-message-size'), '--max-message-size', /not a size/);
    configError(() => parseSize('10T', '--max-message-size'), '--max-message-size', /not a size/);
    configError(() => parseSize('', '--high-water-mark'), '--high-water-mark', /not a size/);
    configError(() => parseSize('-1', '--high-water-mark'), '--high-water-mark', /not a size/);
    configError(() => parseSize('1e6', '--high-water-mark'), '--high-water-mark', /not a size/);
    configError(() => parseSize('KiB', '--high-water-mark'), '--high-water-mark', /not a size/);
  });
  test('sizes below one byte are refused', () => {
    configError(() => parseSize('0', '--high-water-mark'), '--high-water-mark', /at least 1 byte/);
    configError(() => parseSize('0.5', '--high-water-mark'), '--high-water-mark', /at least 1 byte/);
  });
});

describe('parseSeconds', () => {
  test('seconds become milliseconds', () => {
    assert.equal(parseSeconds('10', '--x'), 10_000);
    assert.equal(parseSeconds('0.25', '--x'), 250);
    assert.equal(parseSeconds('2.5', '--x'), 2500);
    assert.equal(parseSeconds(' 3 ', '--x'), 3000);
  });
  test('0 only where allowed', () => {
    assert.equal(parseSeconds('0', '--shutdown-timeout', true), 0);
    configError(() => parseSeconds('0', '--handshake-timeout'), '--handshake-timeout', /positive/);
    configError(() => parseSeconds('0.0', '--connect-timeout'), '--connect-timeout', /positive/);
  });
  test('units, signs, exponents and empty text are refused', () => {
    configError(() => parseSeconds('10s', '--connect-timeout'), '--connect-timeout', /seconds/);
    configError(() => parseSeconds('-1', '--connect-timeout'), '--connect-timeout', /seconds/);
    configError(() => parseSeconds('1e3', '--connect-timeout'), '--connect-timeout', /seconds/);
    configError(() => parseSeconds('', '--connect-timeout'), '--connect-timeout', /seconds/);
    configError(() => parseSeconds('abc', '--shutdown-timeout', true), '--shutdown-timeout', /seconds/);
  });

  // Values a timer cannot honour (Node clamps anything past 2^31-1 ms to 1 ms) are refused, naming the limit.
  test('a positive value shorter than a millisecond is refused, never a 0 ms deadline', () => {
    configError(
      () => parseSeconds('0.0001', '--handshake-timeout'),
      '--handshake-timeout',
      /shorter than a millisecond; give at least 0\.001 seconds/,
    );
    configError(() => parseSeconds('0.0004', '--connect-timeout'), '--connect-timeout', /shorter than a millisecond/);
  });
  test('a value too large for a Node timer is refused', () => {
    configError(
      () => parseSeconds('2147484', '--handshake-timeout'),
      '--handshake-timeout',
      /too long; give at most 2147483 seconds/,
    ); // 2147484000 ms > 2^31-1
    configError(() => parseSeconds('3000000', '--connect-timeout'), '--connect-timeout', /too long/);
    configError(() => parseSeconds('3000000', '--heartbeat', true), '--heartbeat', /too long/); // else a ping every ~1 ms
  });
  test('the largest value a timer can honour is accepted', () => {
    assert.equal(parseSeconds('2147483', '--connect-timeout'), 2_147_483_000);
    assert.equal(parseSeconds('0.001', '--connect-timeout'), 1);
  });
});

describe('normaliseOrigin', () => {
  test('lowercases and drops default ports', () => {
    assert.equal(normaliseOrigin('HTTPS://Example.COM:443'), 'https://example.com');
    assert.equal(normaliseOrigin('http://Example.com:80'), 'http://example.com');
    assert.equal(normaliseOrigin('http://a.example:443'), 'http://a.example:443');
    assert.equal(normaliseOrigin('https://a.example:80'), 'https://a.example:80');
  });
  test('keeps other ports, accepts a bare trailing slash, trims, handles IPv6', () => {
    assert.equal(normaliseOrigin('http://a.example:8080/'), 'http://a.example:8080');
    assert.equal(normaliseOrigin('  https://a.example  '), 'https://a.example');
    assert.equal(normaliseOrigin('http://[::1]:6080'), 'http://[::1]:6080');
  });
  test("'*' and 'null' pass through", () => {
    assert.equal(normaliseOrigin('*'), '*');
    assert.equal(normaliseOrigin('null'), 'null');
  });
  test('paths, queries, fragments and user info are refused', () => {
    configError(() => normaliseOrigin('https://a.example/path'), '--allow-origin', /path or query/);
    configError(() => normaliseOrigin('https://a.example/?x=1'), '--allow-origin', /path or query/);
    configError(() => normaliseOrigin('https://a.example#x'), '--allow-origin', /path or query/);
    configError(() => normaliseOrigin('https://user@a.example'), '--allow-origin', /path or query/);
  });
  test('non-origins are refused', () => {
    configError(() => normaliseOrigin('not an origin'), '--allow-origin', /not an origin/);
    configError(() => normaliseOrigin('a.example'), '--allow-origin', /not an origin/);
    configError(() => normaliseOrigin(''), '--allow-origin', /not an origin/);
  });
});

describe('defaultStateDir', () => {
  test('XDG_STATE_HOME wins when set', () => {
    assert.equal(defaultStateDir({ XDG_STATE_HOME: '/x/state', HOME: '/home/u' }), '/x/state/wsproxy');
  });
  test('otherwise HOME/.local/state', () => {
    assert.equal(defaultStateDir({ HOME: '/home/u' }), '/home/u/.local/state/wsproxy');
    assert.equal(defaultStateDir({ XDG_STATE_HOME: '', HOME: '/home/u' }), '/home/u/.local/state/wsproxy');
  });
  test('without HOME, the OS home directory', () => {
    assert.equal(defaultStateDir({}), join(homedir(), '.local', 'state', 'wsproxy'));
  });
});

describe('resolveConfig', () => {
  test('a valid set with a real --web directory: absolute paths, milliseconds and bytes', () => {
    const web = tempDir();
    const c = resolveConfig(
      args({
        web,
        allowOrigin: ['https://A.example:443, https://b.example', 'http://c.example:8080'],
        handshakeTimeout: '2.5',
      }),
      '/srv',
      {},
    );
    assert.equal(c.webRoot, web);
    assert.ok(c.webRoot !== undefined && isAbsolute(c.webRoot));
    assert.deepEqual(c.listen, { kind: 'tcp', host: undefined, port: 6080 });
    assert.deepEqual(c.targets, { kind: 'fixed', target: { kind: 'tcp', host: 'localhost', port: 5900 } });
    assert.equal(c.tls.certFile, '/srv/self.pem');
    assert.equal(c.tls.certGiven, false);
    assert.equal(c.tls.keyFile, undefined);
    assert.equal(c.tls.sslOnly, false);
    // No --cert and no /srv/self.pem: a certificate is generated in the state dir at start.
    assert.equal(c.tls.generateIfMissing, true);
    assert.deepEqual(c.allowOrigins, ['https://a.example', 'https://b.example', 'http://c.example:8080']);
    assert.deepEqual(c.limits, {
      handshakeTimeoutMs: 2500,
      connectTimeoutMs: 10_000,
      maxMessageBytes: 16 * 1024 * 1024,
      maxBufferedTotal: 64 * 1024 * 1024,
      maxConnections: 10_000,
      maxConnectionsPerIp: 256,
      highWaterMark: 65536,
      shutdownTimeoutMs: 10_000,
      heartbeatMs: 0,
    });
    assert.deepEqual(c.log, { level: 'info', format: 'text' });
  });

  test('a relative --web resolves against cwd', () => {
    const web = tempDir();
    const c = resolveConfig(args({ web: basename(web) }), dirname(web), {});
    assert.equal(c.webRoot, web);
  });

  test('the CLI defaults give the documented limits', () => {
    const c = resolveConfig(
      args({
        handshakeTimeout: String(DEFAULTS.handshakeTimeoutSeconds),
        connectTimeout: String(DEFAULTS.connectTimeoutSeconds),
        maxMessageSize: DEFAULTS.maxMessageSize,
        maxConnections: String(DEFAULTS.maxConnections),
        maxConnectionsPerIp: String(DEFAULTS.maxConnectionsPerIp),
        highWaterMark: DEFAULTS.highWaterMark,
        shutdownTimeout: String(DEFAULTS.shutdownTimeoutSeconds),
        heartbeat: String(DEFAULTS.heartbeatSeconds),
      }),
      '/',
      {},
    );
    assert.equal(c.limits.maxMessageBytes, 16 << 20);
    assert.equal(c.limits.highWaterMark, 64 << 10);
    assert.equal(c.limits.handshakeTimeoutMs, 10_000);
    assert.equal(c.limits.heartbeatMs, 0);
    assert.equal(c.webRoot, undefined);
  });

  test('paths resolve against cwd; --key and --ssl-only accept an existing file', () => {
    const c = resolveConfig(
      args({ cert: EXISTING_FILE, key: EXISTING_FILE, keyPassword: 'pw', sslOnly: true }),
      '/srv',
      {},
    );
    assert.equal(c.tls.certFile, EXISTING_FILE);
    assert.equal(c.tls.certGiven, true);
    assert.equal(c.tls.keyFile, EXISTING_FILE);
    assert.equal(c.tls.keyPassword, 'pw');
    assert.equal(c.tls.sslOnly, true);
    const rel = resolveConfig(args({ cert: basename(EXISTING_FILE), stateDir: 'state' }), dirname(EXISTING_FILE), {});
    assert.equal(rel.tls.certFile, EXISTING_FILE);
    assert.equal(rel.tls.generateIfMissing, false);
    assert.equal(rel.tls.stateDir, join(dirname(EXISTING_FILE), 'state'));
    // A --cert given on purpose that does not exist is a mistake, not a reason to run without TLS.
    configError(
      () => resolveConfig(args({ cert: 'certs/mine.pem' }), '/srv', {}),
      '--cert',
      /--cert: '\/srv\/certs\/mine.pem' not found; .*drop --cert/,
    );
  });

  test('state directory: --state-dir, else XDG_STATE_HOME, else HOME', () => {
    assert.equal(resolveConfig(args(), '/', { XDG_STATE_HOME: '/x' }).tls.stateDir, '/x/wsproxy');
    assert.equal(resolveConfig(args(), '/', { HOME: '/home/u' }).tls.stateDir, '/home/u/.local/state/wsproxy');
    assert.equal(
      resolveConfig(args({ stateDir: '/var/lib/w' }), '/', { XDG_STATE_HOME: '/x' }).tls.stateDir,
      '/var/lib/w',
    );
  });

  test('listen and target positionals', () => {
    const c = resolveConfig(args({ positionals: ['[::1]:6080', '[2001:db8::1]:5900'] }), '/', {});
    assert.deepEqual(c.listen, { kind: 'tcp', host: '::1', port: 6080 });
    assert.deepEqual(c.targets, { kind: 'fixed', target: { kind: 'tcp', host: '2001:db8::1', port: 5900 } });
    const u = resolveConfig(args({ positionals: ['127.0.0.1:0', 'unix:/run/x.sock'] }), '/', {});
    assert.deepEqual(u.targets, { kind: 'fixed', target: { kind: 'unix', path: '/run/x.sock' } });
  });

  test('--verbose and --log-format json', () => {
    assert.deepEqual(resolveConfig(args({ verbose: true, logFormat: 'json' }), '/', {}).log, {
      level: 'debug',
      format: 'json',
    });
  });

  test('--demo needs no target and generates a certificate unless --cert is given', () => {
    const c = resolveConfig(args({ positionals: ['6080'], demo: true }), '/srv', { HOME: '/home/u' });
    assert.deepEqual(c.targets, { kind: 'demo' });
    assert.equal(c.tls.generateIfMissing, true);
    assert.equal(c.tls.stateDir, '/home/u/.local/state/wsproxy');
    const given = resolveConfig(args({ positionals: ['6080'], demo: true, cert: EXISTING_FILE }), '/srv', {});
    assert.equal(given.tls.generateIfMissing, false);
    // --demo makes its own certificate, so --ssl-only does not need one to exist yet.
    const sslOnly = resolveConfig(
      args({ positionals: ['6080'], demo: true, sslOnly: true }),
      '/nonexistent-wsproxy',
      {},
    );
    assert.equal(sslOnly.tls.sslOnly, true);
  });

  test('0 = no limit for every cap and interval; the three bounds that must exist say why 0 is refused (issue #12 #18)', () => {
    const limits = (over: Partial<CliArgs>) => resolveConfig(args(over), '/', {}).limits;
    assert.equal(limits({ maxConnections: '0' }).maxConnections, Infinity);
    assert.equal(limits({ maxConnectionsPerIp: '0' }).maxConnectionsPerIp, Infinity);
    assert.equal(limits({ maxConnectionsPerIp: '00' }).maxConnectionsPerIp, Infinity);
    assert.equal(limits({ maxConnectionsPerIp: '3' }).maxConnectionsPerIp, 3);
    const policy = (over: Partial<CliArgs>) => resolveConfig(args(over), '/', {}).policy;
    assert.equal(policy({ maxSessionsPerToken: '0' })?.maxSessionsPerToken, 0);
    assert.equal(policy({ rateLimit: '0' })?.rateLimit, undefined);
    assert.equal(policy({ rateLimit: '0/min' })?.rateLimit, undefined);
    assert.equal(policy({ authFailureLimit: '0' })?.authFailureLimit, undefined);
    assert.deepEqual(policy({})?.authFailureLimit, { perSecond: 10 / 60, burst: 10 }, 'on by default: 10/min');
    assert.deepEqual(policy({ authFailureLimit: '3/s' })?.authFailureLimit, { perSecond: 3, burst: 3 });
    assert.equal(policy({ revalidateInterval: '0' })?.revalidateIntervalMs, 0);
    const lifecycle = resolveConfig(args({ timeout: '0', idleTimeout: '0', drainTimeout: '0' }), '/', {}).lifecycle;
    assert.deepEqual([lifecycle?.timeoutMs, lifecycle?.idleTimeoutMs, lifecycle?.drainTimeoutMs], [0, 0, 0]);
    configError(
      () => resolveConfig(args({ maxMessageSize: '0' }), '/', {}),
      '--max-message-size',
      /0 is not allowed here \(one unbounded message/,
    );
    configError(
      () => resolveConfig(args({ maxMessageSize: '0KiB' }), '/', {}),
      '--max-message-size',
      /0 is not allowed/,
    );
    configError(
      () => resolveConfig(args({ connectTimeout: '0.0' }), '/', {}),
      '--connect-timeout',
      /0 is not allowed here/,
    );
    configError(
      () => resolveConfig(args({ authFailureLimit: 'lots' }), '/', {}),
      '--auth-failure-limit',
      /not a rate.*0 = no limit/,
    );
  });

  test('--token-jwt-allow-no-exp and --token-hash-key-file', () => {
    const jwt = resolveConfig(
      args({ positionals: ['6080'], tokenPlugin: 'JWTTokenApi', tokenSource: EXISTING_FILE, tokenJwtAllowNoExp: true }),
      '/',
      {},
    );
    assert.equal(jwt.targets.kind === 'token' && jwt.targets.jwtAllowNoExp, true);
    configError(
      () =>
        resolveConfig(
          args({
            positionals: ['6080'],
            tokenPlugin: 'TokenFile',
            tokenSource: EXISTING_FILE,
            tokenJwtAllowNoExp: true,
          }),
          '/',
          {},
        ),
      '--token-jwt-audience',
      /go with --token-plugin JWTTokenApi/,
    );
    assert.deepEqual(resolveConfig(args({ stateDir: '/var/lib/ws' }), '/', {}).tokenHashKey, {
      file: '/var/lib/ws/token-hash.key',
      given: false,
    });
    assert.deepEqual(resolveConfig(args({ tokenHashKeyFile: EXISTING_FILE }), '/', {}).tokenHashKey, {
      file: EXISTING_FILE,
      given: true,
    });
    configError(
      () => resolveConfig(args({ tokenHashKeyFile: '/nonexistent-wsproxy-key' }), '/', {}),
      '--token-hash-key-file',
      /not a file.*openssl rand/,
    );
  });

  test('--shutdown-timeout 0 and --heartbeat 0 (off) are allowed; --heartbeat takes seconds', () => {
    assert.equal(resolveConfig(args({ shutdownTimeout: '0' }), '/', {}).limits.shutdownTimeoutMs, 0);
    assert.equal(resolveConfig(args({ heartbeat: '0' }), '/', {}).limits.heartbeatMs, 0);
    assert.equal(resolveConfig(args({ heartbeat: '30' }), '/', {}).limits.heartbeatMs, 30_000);
  });

  describe('token plugins', () => {
    const tokenArgs = (over: Partial<CliArgs>): CliArgs =>
      args({ positionals: ['6080'], tokenPlugin: 'TokenFile', tokenSource: EXISTING_FILE, ...over });
    test('--token-plugin with an existing --token-source; the token comes from ?token= by default', () => {
      const c = resolveConfig(tokenArgs({}), '/', {});
      assert.deepEqual(c.targets, { kind: 'token', plugin: 'TokenFile', source: EXISTING_FILE, from: 'query' });
    });
    test("websockify's spellings of the plugin name are accepted and canonicalised", () => {
      for (const name of ['websockify.token_plugins.TokenFile', 'tokenfile', 'TOKENFILE']) {
        const c = resolveConfig(tokenArgs({ tokenPlugin: name }), '/', {});
        assert.equal(c.targets.kind === 'token' ? c.targets.plugin : undefined, 'TokenFile', name);
      }
      const ro = resolveConfig(tokenArgs({ tokenPlugin: 'ReadOnlyTokenFile' }), '/', {});
      assert.equal(ro.targets.kind === 'token' ? ro.targets.plugin : undefined, 'ReadOnlyTokenFile');
    });
    test('--host-token and --token-from-path choose where the token comes from', () => {
      const host = resolveConfig(tokenArgs({ hostToken: true }), '/', {});
      assert.equal(host.targets.kind === 'token' ? host.targets.from : undefined, 'host');
      const path = resolveConfig(tokenArgs({ tokenFromPath: true }), '/', {});
      assert.equal(path.targets.kind === 'token' ? path.targets.from : undefined, 'path');
    });
    test('--target-config FILE is the old spelling of --token-plugin TokenFile --token-source FILE', () => {
      const c = resolveConfig(args({ positionals: ['6080'], targetConfig: EXISTING_FILE }), '/', {});
      assert.deepEqual(c.targets, { kind: 'token', plugin: 'TokenFile', source: EXISTING_FILE, from: 'query' });
    });
    test('a relative --token-source resolves against cwd; TokenFileName needs a directory', () => {
      const dir = tempDir();
      const c = resolveConfig(
        tokenArgs({ tokenPlugin: 'TokenFileName', tokenSource: basename(dir) }),
        dirname(dir),
        {},
      );
      assert.deepEqual(c.targets, { kind: 'token', plugin: 'TokenFileName', source: dir, from: 'query' });
      configError(
        () => resolveConfig(tokenArgs({ tokenPlugin: 'TokenFileName' }), '/', {}),
        '--token-source',
        /not a directory/,
      );
    });
    test('mistakes', () => {
      configError(
        () => resolveConfig(tokenArgs({ tokenPlugin: 'Nope' }), '/', {}),
        '--token-plugin',
        /not available.*TokenFile/,
      );
      configError(
        () => resolveConfig(tokenArgs({ positionals: ['6080', 'localhost:5900'] }), '/', {}),
        'target',
        /exclude each other/,
      );
      configError(
        () => resolveConfig(tokenArgs({ tokenSource: undefined }), '/', {}),
        '--token-source',
        /needs --token-source/,
      );
      configError(
        () => resolveConfig(tokenArgs({ tokenSource: '' }), '/', {}),
        '--token-source',
        /needs --token-source/,
      );
      configError(
        () => resolveConfig(tokenArgs({ tokenSource: '/nonexistent-wsproxy-tokens' }), '/', {}),
        '--token-source',
        /not a file or directory/,
      );
      configError(
        () => resolveConfig(tokenArgs({ hostToken: true, tokenFromPath: true }), '/', {}),
        '--host-token',
        /exclude each other/,
      );
      configError(
        () => resolveConfig(tokenArgs({ targetConfig: EXISTING_FILE }), '/', {}),
        '--target-config',
        /old spelling/,
      );
      configError(() => resolveConfig(tokenArgs({ demo: true }), '/', {}), '--demo', /drop --token-plugin/);
    });
    test('token options without --token-plugin are refused', () => {
      configError(
        () => resolveConfig(args({ tokenSource: EXISTING_FILE }), '/', {}),
        '--token-source',
        /needs --token-plugin/,
      );
      configError(() => resolveConfig(args({ hostToken: true }), '/', {}), '--host-token', /needs --token-plugin/);
      configError(
        () => resolveConfig(args({ tokenFromPath: true }), '/', {}),
        '--token-from-path',
        /needs --token-plugin/,
      );
    });
  });

  describe('mistakes are one-line ConfigErrors naming the flag', () => {
    test('positionals', () => {
      configError(() => resolveConfig(args({ positionals: [] }), '/', {}), 'source_port', /missing the listen port/);
      configError(
        () => resolveConfig(args({ positionals: ['6080'] }), '/', {}),
        'target',
        /missing the target.*--demo/,
      );
      configError(
        () => resolveConfig(args({ positionals: ['6080', 'a:1', 'b:2'] }), '/', {}),
        'target',
        /too many arguments/,
      );
      configError(() => resolveConfig(args({ demo: true }), '/', {}), '--demo', /drop/);
      configError(
        () => resolveConfig(args({ positionals: ['70000', 'localhost:5900'] }), '/', {}),
        'source_port',
        /out of range/,
      );
      configError(
        () => resolveConfig(args({ positionals: ['6080', 'localhost'] }), '/', {}),
        'target',
        /host and a port/,
      );
    });
    test('--max-buffered-total: 64 MiB by default, at least --max-message-size; 0 = no limit; below the largest message refused', () => {
      assert.equal(resolveConfig(args(), '/', {}).limits.maxBufferedTotal, 64 << 20);
      assert.equal(resolveConfig(args({ maxMessageSize: '100MiB' }), '/', {}).limits.maxBufferedTotal, 100 << 20);
      assert.equal(resolveConfig(args({ maxBufferedTotal: '0' }), '/', {}).limits.maxBufferedTotal, 0);
      assert.equal(resolveConfig(args({ maxBufferedTotal: '1GiB' }), '/', {}).limits.maxBufferedTotal, 1 << 30);
      configError(
        () => resolveConfig(args({ maxBufferedTotal: '1MiB' }), '/', {}),
        '--max-buffered-total',
        /below --max-message-size/,
      );
      configError(
        () => resolveConfig(args({ maxBufferedTotal: 'lots' }), '/', {}),
        '--max-buffered-total',
        /not a size/,
      );
    });
    test('sizes, times and counts', () => {
      configError(() => resolveConfig(args({ maxMessageSize: '10XB' }), '/', {}), '--max-message-size', /not a size/);
      configError(() => resolveConfig(args({ highWaterMark: '0' }), '/', {}), '--high-water-mark', /at least 1 byte/);
      configError(
        () => resolveConfig(args({ handshakeTimeout: '0' }), '/', {}),
        '--handshake-timeout',
        /0 is not allowed here \(without a deadline/,
      );
      configError(() => resolveConfig(args({ connectTimeout: 'soon' }), '/', {}), '--connect-timeout', /seconds/);
      configError(() => resolveConfig(args({ shutdownTimeout: '-1' }), '/', {}), '--shutdown-timeout', /seconds/);
      configError(() => resolveConfig(args({ heartbeat: '5s' }), '/', {}), '--heartbeat', /seconds/);
      configError(() => resolveConfig(args({ maxConnections: '1.5' }), '/', {}), '--max-connections', /whole number/);
      configError(
        () => resolveConfig(args({ maxConnectionsPerIp: 'many' }), '/', {}),
        '--max-connections-per-ip',
        /whole number/,
      );
    });
    test('files and directories', () => {
      configError(() => resolveConfig(args({ web: '/nonexistent-wsproxy-dir' }), '/', {}), '--web', /not a directory/);
      configError(() => resolveConfig(args({ web: EXISTING_FILE }), '/', {}), '--web', /not a directory/);
      configError(
        () => resolveConfig(args({ sslOnly: true, cert: '/nonexistent.pem' }), '/', {}),
        '--cert',
        /make-self-signed\.sh/,
      );
      // Without --cert, --ssl-only is fine: a certificate is generated.
      assert.equal(resolveConfig(args({ sslOnly: true }), '/nonexistent-wsproxy-dir', {}).tls.generateIfMissing, true);
      configError(() => resolveConfig(args({ key: '/nonexistent.key' }), '/', {}), '--key', /not a readable file/);
    });
    test('formats and origins', () => {
      configError(() => resolveConfig(args({ logFormat: 'yaml' }), '/', {}), '--log-format', /text, json/);
      configError(
        () => resolveConfig(args({ allowOrigin: ['https://a.example/path'] }), '/', {}),
        '--allow-origin',
        /path or query/,
      );
      configError(
        () => resolveConfig(args({ allowOrigin: ['https://ok.example,garbage'] }), '/', {}),
        '--allow-origin',
        /not an origin/,
      );
    });
  });
});

describe('edge values found in review', () => {
  test('absurd sizes, origins with credentials and a relative XDG_STATE_HOME are refused or ignored', () => {
    assert.throws(() => parseSize('9'.repeat(400), '--max-message-size'), ConfigError);
    assert.throws(() => normaliseOrigin('https://:pw@a.example'), ConfigError);
    assert.equal(
      defaultStateDir({ XDG_STATE_HOME: 'relative/state', HOME: '/home/u' }),
      '/home/u/.local/state/wsproxy',
    );
  });
});

describe('resolveWorkers', () => {
  test('a count, auto, or the default of one process', () => {
    assert.equal(resolveWorkers(undefined, 8), 1);
    assert.equal(resolveWorkers('3', 8), 3);
    assert.equal(resolveWorkers('auto', 8), 8);
    assert.equal(resolveWorkers('auto', 0), 1);
  });
  test('zero, negative, fractions, words and huge counts are refused naming the flag', () => {
    for (const bad of ['0', '-1', '1.5', 'many', '65', ' 2']) {
      assert.throws(
        () => resolveWorkers(bad, 2),
        (err: Error) => err instanceof ConfigError && /--workers/.test(err.message),
      );
    }
  });
});

describe('wrap mode, daemon, pid file and syslog options', () => {
  test('a wrapped program relays to --wrap-target and keeps its arguments as given', () => {
    const c = resolveConfig(
      args({
        positionals: ['6080'],
        wrapCommand: ['prog', 'a;b', '$(x)'],
        wrapMode: 'respawn',
        wrapTarget: '127.0.0.1:5901',
      }),
      '/',
      {},
    );
    assert.deepEqual(c.targets, { kind: 'fixed', target: { kind: 'tcp', host: '127.0.0.1', port: 5901 } });
    assert.deepEqual(c.process?.wrap, { command: ['prog', 'a;b', '$(x)'], mode: 'respawn' });
  });
  test('wrap mistakes name the flag', () => {
    const wrapArgs = (over: Partial<CliArgs>): CliArgs =>
      args({ positionals: ['6080'], wrapCommand: ['prog'], wrapTarget: '127.0.0.1:5901', ...over });
    assert.throws(
      () => resolveConfig(wrapArgs({ wrapTarget: undefined }), '/', {}),
      (e: unknown) =>
        e instanceof ConfigError && e.flag === '--wrap-target' && /needs --wrap-target host:port/.test(e.message),
    );
    assert.throws(
      () => resolveConfig(wrapArgs({ wrapMode: 'sometimes' }), '/', {}),
      (e: unknown) => e instanceof ConfigError && e.flag === '--wrap-mode',
    );
    assert.throws(
      () => resolveConfig(wrapArgs({ positionals: ['6080', 'h:1'] }), '/', {}),
      (e: unknown) => e instanceof ConfigError && /exclude each other/.test(e.message),
    );
    assert.throws(
      () => resolveConfig(args({ wrapTarget: '127.0.0.1:1' }), '/', {}),
      (e: unknown) => e instanceof ConfigError && e.flag === '--wrap-target',
    );
  });
  test('--syslog: host:port is UDP, anything else a socket path; facility daemon with -D; --legacy-syslog needs --syslog', () => {
    assert.deepEqual(resolveConfig(args({ syslog: '127.0.0.1:514' }), '/', {}).process?.syslog, {
      destination: { kind: 'udp', host: '127.0.0.1', port: 514 },
      legacy: false,
      facility: 'user',
    });
    assert.deepEqual(
      resolveConfig(args({ syslog: '[::1]:5514', legacySyslog: true, daemon: true }), '/', {}).process?.syslog,
      { destination: { kind: 'udp', host: '::1', port: 5514 }, legacy: true, facility: 'daemon' },
    );
    assert.deepEqual(resolveConfig(args({ syslog: '/dev/log' }), '/', {}).process?.syslog?.destination, {
      kind: 'unix',
      path: '/dev/log',
    });
    assert.throws(
      () => resolveConfig(args({ legacySyslog: true }), '/', {}),
      (e: unknown) => e instanceof ConfigError && e.flag === '--legacy-syslog',
    );
    assert.throws(
      () => resolveConfig(args({ syslog: 'host:99999' }), '/', {}),
      (e: unknown) => e instanceof ConfigError && e.flag === '--syslog',
    );
  });
  test('-D with --inetd and a malformed --wrap-target are refused naming the flag', () => {
    assert.throws(
      () => resolveConfig(args({ positionals: ['h:1'], inetd: true, daemon: true }), '/', {}),
      (e: unknown) => e instanceof ConfigError && e.flag === '--daemon',
    );
    assert.throws(
      () => resolveConfig(args({ positionals: ['6080'], wrapCommand: ['prog'], wrapTarget: 'nohost' }), '/', {}),
      (e: unknown) => e instanceof ConfigError && e.flag === '--wrap-target' && /^--wrap-target: /.test(e.message),
    );
  });
  test('--pid-file is made absolute', () => {
    assert.equal(resolveConfig(args({ pidFile: 'run/ws.pid' }), '/srv', {}).process?.pidFile, '/srv/run/ws.pid');
  });
});

describe('--upstream-underscore-headers', () => {
  test('off by default, on with --http-upstream', () => {
    assert.equal(
      resolveConfig(args({ httpUpstream: 'http://127.0.0.1:8080' }), '/srv', {}).upstreamUnderscoreHeaders,
      undefined,
    );
    assert.equal(
      resolveConfig(args({ httpUpstream: 'http://127.0.0.1:8080', upstreamUnderscoreHeaders: true }), '/srv', {})
        .upstreamUnderscoreHeaders,
      true,
    );
  });
  test('without --http-upstream it is a one-line error that says what to add', () => {
    configError(
      () => resolveConfig(args({ upstreamUnderscoreHeaders: true }), '/srv', {}),
      '--upstream-underscore-headers',
      /add --http-upstream/,
    );
  });
});
