// The source layout stays as docs/architecture.md describes it (issue #13): no file in src/ over 400 lines, no function
// over 80, and every long option name spelled out only in the option table (src/config/options/), so renaming or
// documenting an option is one edit. Each check is also shown failing on a made-up source.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import ts from 'typescript';
import { OPTION_NAMES } from '../../../src/config/options/index.js';
import { REPO_ROOT } from '../../helpers/proxy.js';

const SRC = join(REPO_ROOT, 'src');
const TABLE_DIR = 'config/options/';
const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;

const sources: readonly { file: string; text: string }[] = readdirSync(SRC, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.ts'))
  .sort()
  .map((f) => ({ file: f, text: readFileSync(join(SRC, f), 'utf8') }));

/** Functions (declarations, methods, arrows, accessors) longer than `max` lines, as `file:line name (n lines)`. */
function longFunctions(file: string, text: string, max: number): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const lines = sf.getLineAndCharacterOfPosition(node.end).line - first + 1;
      const name = node.name?.getText(sf) ?? '(anonymous)';
      if (lines > max) found.push(`${file}:${first + 1} ${name} (${lines} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

const escape = (s: string): string => s.replace(/[-]/g, '\\-');

/**
 * The long option names a text spells out: `--name` for every option, and the bare `name` too when it has a dash
 * (`ssl-only` is unmistakable, `cert` or `web` alone are ordinary words).
 */
function optionNamesIn(text: string, names: readonly string[]): string[] {
  return names.filter((name) => {
    const flag = new RegExp(`--${escape(name)}(?![\\w-])`);
    const bare = new RegExp(`(?<![\\w-])${escape(name)}(?![\\w-]|\\.js\\b)`); // not a module path (policy/rate-limit.js)
    return flag.test(text) || (name.includes('-') && bare.test(text));
  });
}

describe('source layout (docs/architecture.md)', () => {
  test(`no file in src/ is longer than ${MAX_FILE_LINES} lines`, () => {
    const long = sources
      .map(({ file, text }) => ({ file, lines: text.split('\n').length }))
      .filter((f) => f.lines > MAX_FILE_LINES)
      .map((f) => `${f.file} (${f.lines} lines)`);
    assert.deepEqual(long, []);
  });

  test(`no function in src/ is longer than ${MAX_FUNCTION_LINES} lines`, () => {
    assert.deepEqual(
      sources.flatMap(({ file, text }) => longFunctions(file, text, MAX_FUNCTION_LINES)),
      [],
    );
  });

  test('each long option name is spelled out only in the option table', () => {
    assert.ok(OPTION_NAMES.length > 90, 'the table lists the options');
    const outside = sources
      .filter(({ file }) => !file.startsWith(TABLE_DIR))
      .flatMap(({ file, text }) => optionNamesIn(text, OPTION_NAMES).map((name) => `${file}: ${name}`));
    assert.deepEqual(outside, []);
    const inTable = sources.filter(({ file }) => file.startsWith(TABLE_DIR)).map(({ text }) => text);
    const entry = (name: string): RegExp => new RegExp(`^  '?${escape(name)}'?: \\{`, 'm');
    const defined = OPTION_NAMES.filter((name) => inTable.some((text) => entry(name).test(text)));
    assert.deepEqual(defined, OPTION_NAMES, 'every option is an entry of a table part');
  });

  test('the checks see a violation', () => {
    const body = Array.from({ length: 81 }, (_, i) => `  const v${i} = ${i};`).join('\n');
    assert.equal(longFunctions('x.ts', `function big(): void {\n${body}\n}\n`, 80).length, 1);
    assert.equal(longFunctions('x.ts', `const f = () => {\n${body}\n};\n`, 80).length, 1);
    assert.deepEqual(longFunctions('x.ts', 'function small(): void {}\n', 80), []);
    assert.deepEqual(optionNamesIn('// with --ssl-only set', OPTION_NAMES), ['ssl-only']);
    assert.deepEqual(optionNamesIn("name: 'target-ca'", OPTION_NAMES), ['target-ca']);
    assert.deepEqual(optionNamesIn('`sslOnly` and a cert and the web', OPTION_NAMES), []);
    assert.ok(relative(SRC, join(SRC, TABLE_DIR, 'index.ts')).startsWith(TABLE_DIR));
  });
});
