import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CliArgs } from '../../../src/config/options/index.js';
import { resolveConfig } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/errors.js';
import { cliArgs } from '../../helpers/config.js';

/** A full set of command-line values as cli.ts delivers them (every numeric field a string). */
const args = cliArgs;

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
