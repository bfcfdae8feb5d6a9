import assert from 'node:assert/strict';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { describe, test } from 'node:test';
import type { CliArgs } from '../../../src/config/options/index.js';
import { DEFAULTS } from '../../../src/config/options/index.js';
import { resolveConfig } from '../../../src/config/index.js';
import { cliArgs, configError, EXISTING_FILE, fakeProbes, tempDirs } from '../../helpers/config.js';

/** A full set of command-line values as cli.ts delivers them (every numeric field a string). */
const args = cliArgs;

const tempDir = tempDirs();

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

describe('resolveConfig with fake probes (no disk, no OpenSSL)', () => {
  test('files, directories, cores and the home directory all come from the probes', () => {
    const probes = fakeProbes({ files: ['/srv/cert.pem'], dirs: ['/srv/www', '/srv/rec'], groups: ['X25519'] });
    const c = resolveConfig(
      args({ cert: 'cert.pem', web: 'www', record: 'rec/session', workers: 'auto', ecdhCurve: 'P-256:X25519' }),
      '/srv',
      {},
      false,
      probes,
    );
    assert.equal(c.tls.certFile, '/srv/cert.pem');
    assert.equal(c.webRoot, '/srv/www');
    assert.equal(c.recordPrefix, '/srv/rec/session');
    assert.equal(c.workers, 4);
    assert.equal(c.tls.options?.ecdhCurve, 'X25519');
    assert.equal(c.tls.stateDir, '/home/fake/.local/state/wsproxy');
    configError(
      () => resolveConfig(args({ web: 'nowhere' }), '/srv', {}, false, probes),
      '--web',
      /^--web: '\/srv\/nowhere' is not a directory/,
    );
  });
});
