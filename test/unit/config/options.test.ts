// The option table (src/config/options.ts): names, aliases and variables unique, every entry complete, secrets
// flagged, reload classes consistent, and the names, keys and variables derived from it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DEFAULTS,
  envName,
  flag,
  helpLine,
  OPTION_ENTRIES,
  OPTION_NAMES,
  optionKey,
  optionName,
  optionSpec,
  reportsOf,
} from '../../../src/config/options/index.js';

describe('option table invariants', () => {
  test('long names, aliases and WSPROXY_* names are unique, and no alias is another option', () => {
    const aliases = OPTION_ENTRIES.flatMap(([, spec]) => (spec.alias === undefined ? [] : [spec.alias]));
    const all = [...OPTION_NAMES, ...aliases];
    assert.equal(new Set(all).size, all.length);
    const envs = OPTION_NAMES.flatMap((name) => envName(name) ?? []);
    assert.equal(new Set(envs).size, envs.length);
    for (const name of OPTION_NAMES) assert.match(name, /^[a-z][a-z0-9-]*[a-z0-9]$/, name);
  });

  test('every option has help, a group and a reload class; docs notes are strings', () => {
    for (const [name, spec] of OPTION_ENTRIES) {
      assert.ok(spec.help.length > 10, `${name}: help`);
      assert.ok(spec.group.length > 0, `${name}: group`);
      assert.ok(['live', 'restart', 'none'].includes(spec.reload), `${name}: reload class`);
      assert.ok(['boolean', 'string', 'list'].includes(spec.kind), `${name}: kind`);
      if (spec.kind === 'boolean') assert.equal(typeof spec.default, 'boolean', `${name}: a switch has a default`);
      if (spec.greedy === true) assert.equal(spec.kind, 'list', `${name}: only lists are greedy`);
    }
  });

  test('secrets are flagged and fed to reports by name only', () => {
    const secrets = OPTION_ENTRIES.filter(([, spec]) => spec.secret === true).map(([name]) => name);
    assert.deepEqual(secrets, [optionName('keyPassword'), optionName('authSource')]);
  });

  test('cert-only and meta options are not reloaded; the options feeding one report share its class', () => {
    const classes = new Map<string, Set<string>>();
    for (const [name, spec] of OPTION_ENTRIES) {
      if (spec.command !== undefined || spec.ignored === true) assert.equal(spec.reload, 'none', name);
      if (spec.reload === 'none') assert.equal(spec.reports, undefined, name);
      for (const report of reportsOf(name)) classes.set(report, (classes.get(report) ?? new Set()).add(spec.reload));
    }
    for (const [report, set] of classes) assert.equal(set.size, 1, `${report}: one class`);
    assert.deepEqual(reportsOf(optionName('targetConfig')), [optionName('tokenPlugin'), optionName('tokenSource')]);
    assert.deepEqual(reportsOf(optionName('preferIpv6')), ['listen']);
    assert.deepEqual(reportsOf('help'), []);
  });

  test('a default is given once: the parser default or a fallback, never both', () => {
    for (const [name, spec] of OPTION_ENTRIES) {
      assert.ok(spec.default === undefined || spec.fallback === undefined, name);
      if (spec.fallbackNote !== undefined) assert.notEqual(spec.fallback, undefined, name);
      if (spec.bare !== undefined) assert.ok(spec.values?.includes(spec.bare), `${name}: bare is one of its values`);
    }
  });
});

describe('derived names and values', () => {
  test('keys, flags and variables', () => {
    assert.equal(optionName('tokenPlugin'), 'token-plugin');
    assert.equal(optionName('token_plugin'), 'token-plugin');
    assert.equal(optionName('tls13Ciphers'), 'tls13-ciphers');
    assert.equal(optionKey('max-connections-per-ip'), 'maxConnectionsPerIp');
    assert.equal(optionKey('tls13-ciphers'), 'tls13Ciphers');
    assert.equal(flag('targetCa'), '--target-ca');
    assert.equal(envName('token-plugin'), 'WSPROXY_TOKEN_PLUGIN');
    assert.equal(envName('help'), undefined);
    for (const name of OPTION_NAMES) assert.equal(optionName(optionKey(name)), name, 'key and name round-trip');
    assert.equal(optionSpec('no-such-option'), undefined);
    assert.equal(optionSpec('constructor'), undefined);
  });

  test('DEFAULTS come from the table', () => {
    assert.deepEqual(DEFAULTS, {
      cert: 'self.pem',
      handshakeTimeoutSeconds: 10,
      connectTimeoutSeconds: 10,
      maxMessageSize: '16MiB',
      maxBufferedTotal: '64MiB',
      maxConnections: 10000,
      maxConnectionsPerIp: 256,
      highWaterMark: '64KiB',
      shutdownTimeoutSeconds: 10,
      heartbeatSeconds: 0,
      drainTimeoutSeconds: 30,
      sessionTicketRotateSeconds: 86_400,
      authFailureLimit: '10/min',
    });
  });

  test('the help line shows a fallback default with its note', () => {
    const cert = optionSpec('cert');
    assert.ok(cert !== undefined);
    assert.match(helpLine(cert), / \[default: self\.pem\]$/);
    const buffered = optionSpec(optionName('maxBufferedTotal'));
    assert.ok(buffered !== undefined);
    assert.match(helpLine(buffered), /\[default: 64MiB, at least --max-message-size\]$/);
  });
});
