// The documentation stays current and whole: the generated tables equal what scripts/gen-docs.mjs makes from the code,
// the README stays a two-minute read with the two commands CI runs, and every relative link lands on a file and heading.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT } from '../../helpers/proxy.js';

const GEN = join(REPO_ROOT, 'scripts', 'gen-docs.mjs');
const GENERATED = ['options.md', 'errors.md'];

function genDocs(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [GEN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr };
}

/** A copy of the generated docs in a temp dir of this test's own. */
function copyDocs(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wsproxy-docs-'));
  for (const file of GENERATED) writeFileSync(join(dir, file), readFileSync(join(REPO_ROOT, 'docs', file)));
  return dir;
}

describe('generated docs', () => {
  test('docs/options.md and docs/errors.md are what npm run docs makes from the code', () => {
    const r = genDocs(['--check']);
    assert.equal(r.status, 0, r.stderr);
  });

  for (const [file, from, to] of [
    ['options.md', '| `--cert FILE`', '| `--cert-file FILE`'],
    ['errors.md', '| `BAD_REQUEST` | 400 |', '| `BAD_REQUEST` | 401 |'],
  ] as const) {
    test(`a stale row in ${file} fails the check, naming the file; npm run docs repairs it`, () => {
      const dir = copyDocs();
      try {
        const path = join(dir, file);
        const text = readFileSync(path, 'utf8');
        assert.ok(text.includes(from), `${file} has ${from}`);
        writeFileSync(path, text.replace(from, to));
        const stale = genDocs(['--check', '--docs', dir]);
        assert.equal(stale.status, 1);
        assert.match(stale.stderr, new RegExp(`${file.replace('.', '\\.')} not current`));
        assert.equal(genDocs(['--docs', dir]).status, 0);
        assert.equal(readFileSync(path, 'utf8'), text);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  test('a generated block that is missing is an error, not a silent pass', () => {
    const dir = copyDocs();
    try {
      const path = join(dir, 'errors.md');
      writeFileSync(path, readFileSync(path, 'utf8').replace('<!-- generated:reload-reasons -->', ''));
      const r = genDocs(['--check', '--docs', dir]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /generated:reload-reasons --> block is missing/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('README', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

  test('is at most 12 KB', () => {
    assert.ok(
      statSync(join(REPO_ROOT, 'README.md')).size <= 12 * 1024,
      `README.md is ${statSync(join(REPO_ROOT, 'README.md')).size} bytes`,
    );
  });

  test('gives the two commands, and CI runs its test command', () => {
    const commands = [...readme.matchAll(/^(npm|npx|node|make) [a-z:-]+( [^#`]*)?$/gm)].map((m) => m[0].trim());
    assert.equal(
      commands.find((c) => c.includes('start')),
      'npm ci && npm start',
    );
    // The first command line that mentions a test is the one users are told to run; .ci/run must run exactly it.
    const testCommand = commands.find((c) => c.includes('test'));
    assert.equal(testCommand, 'npm ci && npm test');
    assert.ok(readFileSync(join(REPO_ROOT, '.ci', 'run'), 'utf8').includes(testCommand));
  });
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  const withoutCode = markdown.replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...withoutCode.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] ?? '')));
}

function markdownFiles(): string[] {
  const docs = readdirSync(join(REPO_ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(REPO_ROOT, 'docs', f));
  return [
    join(REPO_ROOT, 'README.md'),
    join(REPO_ROOT, 'CHANGELOG.md'),
    join(REPO_ROOT, 'bench', 'README.md'),
    ...docs,
  ];
}

describe('links', () => {
  test('every relative link in README, docs/, bench/README and CHANGELOG reaches a file and, if named, a heading', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const file of markdownFiles()) {
      const text = readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const link = m[1] ?? '';
        if (/^[a-z]+:/i.test(link)) continue;
        checked++;
        const [path = '', anchor] = link.split('#');
        const target = path === '' ? file : join(dirname(file), path);
        const where = `${relative(REPO_ROOT, file)} → ${link}`;
        if (!existsSync(target)) broken.push(`${where}: no such file`);
        else if (anchor !== undefined && !anchorsOf(readFileSync(target, 'utf8')).has(anchor))
          broken.push(`${where}: no such heading`);
      }
    }
    assert.ok(checked > 20, `only ${checked} links checked`);
    assert.deepEqual(broken, []);
  });

  test('the README links every page of docs/', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const pages = readdirSync(join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md'));
    assert.ok(pages.length >= 10);
    assert.deepEqual(
      pages.filter((page) => !readme.includes(`](docs/${page}`)),
      [],
    );
  });
});
