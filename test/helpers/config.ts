// The command-line arguments resolveConfig() takes, as parseCommandLine() gives them with no flags: the websockify
// form `6080 localhost:5900`, every option at its default. Tests override what they exercise.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CliArgs } from '../../src/config/options/index.js';
import type { ConfigProbes } from '../../src/config/probes.js';
import { ConfigError } from '../../src/errors.js';

/** An existing regular file that needs no set-up: this compiled helper. */
export const EXISTING_FILE = fileURLToPath(import.meta.url);

/**
 * Asserts `fn` throws a ConfigError for `flag` whose message is one line, names the argument (`names`, the flag
 * itself unless given) and matches `pattern`.
 */
export function configError(fn: () => unknown, flag: string, pattern: RegExp, names: RegExp | string = flag): void {
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

/** Default command-line arguments with `over` applied. */
export function cliArgs(over: Partial<CliArgs> = {}): CliArgs {
  return {
    positionals: ['6080', 'localhost:5900'],
    cert: undefined,
    key: undefined,
    keyPassword: undefined,
    sslOnly: false,
    web: undefined,
    fileOnly: false,
    verbose: false,
    demo: false,
    stateDir: undefined,
    allowOrigin: [],
    handshakeTimeout: '10',
    connectTimeout: '10',
    maxMessageSize: '16MiB',
    maxConnections: '10000',
    maxConnectionsPerIp: '256',
    authPlugin: undefined,
    authSource: undefined,
    webAuth: false,
    record: undefined,
    runOnce: false,
    timeout: '0',
    idleTimeout: '0',
    unixListen: undefined,
    unixListenMode: '600',
    unixTarget: undefined,
    inetd: false,
    preferIpv6: false,
    textFrames: 'reject',
    traffic: false,
    logFile: undefined,
    tokenJwtAudience: undefined,
    tokenJwtIssuer: undefined,
    highWaterMark: '64KiB',
    shutdownTimeout: '10',
    heartbeat: '0',
    logFormat: 'text',
    tokenPlugin: undefined,
    tokenSource: undefined,
    targetConfig: undefined,
    hostToken: false,
    tokenFromPath: false,
    wrapCommand: [],
    wrapMode: 'exit',
    wrapTarget: undefined,
    daemon: false,
    pidFile: undefined,
    syslog: undefined,
    legacySyslog: false,
    ...over,
  };
}

/**
 * Config probes answering from lists instead of the disk and OpenSSL (our own interface, injected): `files` and
 * `dirs` exist, `texts` can be read, `groups` are the key-exchange groups OpenSSL supports, every cipher list passes
 * unless `ciphersAccepted` is overridden.
 */
export function fakeProbes(
  over: {
    files?: readonly string[];
    dirs?: readonly string[];
    texts?: Readonly<Record<string, string>>;
    groups?: readonly string[];
  } & Partial<ConfigProbes> = {},
): ConfigProbes {
  const { files = [], dirs = [], texts = {}, groups = ['X25519', 'P-256'], ...probes } = over;
  return {
    isFile: (path) => files.includes(path),
    isDirectory: (path) => dirs.includes(path),
    readText: (path) => {
      const text = texts[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return text;
    },
    ciphersAccepted: () => true,
    groupSupported: (group) => groups.includes(group),
    cores: () => 4,
    homedir: () => '/home/fake',
    ...probes,
  };
}

/** A maker of fresh temporary directories for one test file, all removed when the file's tests are done. */
export function tempDirs(prefix = 'wsproxy-unit-'): () => string {
  const made: string[] = [];
  after(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}
