import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { AUTH_PLUGINS } from '../../../src/auth/registry.js';
import { parseCommandLine } from '../../../src/cli.js';
import { resolveConfig } from '../../../src/config/index.js';
import { TOKEN_PLUGINS, canonicalTokenPlugin } from '../../../src/targets/registry.js';

const dir = mkdtempSync(join(tmpdir(), 'wsproxy-plugins-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The config error for a command line (undefined if it resolves). */
function configError(argv: readonly string[]): string | undefined {
  const cl = parseCommandLine(argv);
  assert.equal(cl.kind, 'run');
  if (cl.kind !== 'run') return undefined;
  try {
    resolveConfig(cl.args, dir, {});
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Every name and alias of a list, lower-cased (how config compares class names). */
function spellings(list: readonly { name: string; aliases: readonly string[] }[]): string[] {
  return list.flatMap((p) => [p.name, ...p.aliases].map((n) => n.toLowerCase()));
}

/** The names an unknown-plugin error offers ("choose one of A, B, C"). */
function offered(message: string | undefined): string[] {
  const m = /choose one of (.*)$/.exec(message ?? '');
  assert.ok(m, message);
  return (m[1] ?? '').split(', ');
}

describe('token plugin descriptors', () => {
  test('every name and alias is unique', () => {
    const all = spellings(TOKEN_PLUGINS);
    assert.equal(new Set(all).size, all.length, all.join(' '));
  });

  test('config accepts exactly the names of TOKEN_PLUGINS', () => {
    const token = (name: string): string | undefined =>
      configError(['6080', '--token-plugin', name, '--token-source', dir]);
    assert.deepEqual(
      offered(token('Nope')),
      TOKEN_PLUGINS.map((p) => p.name),
    );
    for (const p of TOKEN_PLUGINS) {
      for (const name of [p.name, p.name.toUpperCase(), ...p.aliases]) {
        const err = token(name);
        assert.ok(err === undefined || !err.includes('is not available'), `${name}: ${err}`);
        assert.equal(canonicalTokenPlugin(name), p.name);
      }
    }
  });
});

describe('auth plugin descriptors', () => {
  test('every name and alias is unique', () => {
    const all = spellings(AUTH_PLUGINS);
    assert.equal(new Set(all).size, all.length, all.join(' '));
  });

  test('config accepts exactly the names of AUTH_PLUGINS', () => {
    const auth = (name: string): string | undefined =>
      configError(['6080', 'localhost:5900', '--auth-plugin', name, '--auth-source', 'user:pass']);
    assert.deepEqual(
      offered(auth('Nope')),
      AUTH_PLUGINS.map((p) => p.name),
    );
    for (const p of AUTH_PLUGINS) {
      for (const name of [p.name, p.name.toLowerCase(), ...p.aliases]) {
        const err = auth(name);
        assert.ok(err === undefined || !err.includes('is not available'), `${name}: ${err}`);
      }
    }
  });
});
