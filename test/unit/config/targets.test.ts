import assert from 'node:assert/strict';
import { basename, dirname } from 'node:path';
import { describe, test } from 'node:test';
import type { CliArgs } from '../../../src/config/options/index.js';
import { resolveConfig } from '../../../src/config/index.js';
import { cliArgs, configError, EXISTING_FILE, tempDirs } from '../../helpers/config.js';

/** A full set of command-line values as cli.ts delivers them (every numeric field a string). */
const args = cliArgs;

const tempDir = tempDirs();

describe('resolveConfig: token plugins', () => {
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
    const c = resolveConfig(tokenArgs({ tokenPlugin: 'TokenFileName', tokenSource: basename(dir) }), dirname(dir), {});
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
    configError(() => resolveConfig(tokenArgs({ tokenSource: '' }), '/', {}), '--token-source', /needs --token-source/);
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
