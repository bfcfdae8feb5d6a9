#!/usr/bin/env node
// Runs the compiled unit and end-to-end tests with Node's own test runner.
// Unit files first (fast, pure), then e2e files; both with bounded concurrency for 2-core machines.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const pick = (dir) => {
  const full = join(root, 'dist', 'test', dir);
  try {
    // Recursive: unit tests mirror src/ folders (test/unit/net/ for src/net/).
    return readdirSync(full, { recursive: true })
      .filter((f) => f.endsWith('.test.js'))
      .sort()
      .map((f) => join(full, f));
  } catch {
    return [];
  }
};
const only = process.argv.slice(2);
const files = [...pick('unit'), ...pick('e2e')].filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
if (files.length === 0) {
  console.error('run-tests: no compiled test files under dist/test; run npm run build first');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=120000', ...files], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(result.status ?? 1);
