#!/usr/bin/env node
// Builds what the package ships, dist/src, from scratch (files of deleted modules must not linger in a tarball).
// Run by `npm pack`/`npm publish` (prepack) and, with --if-missing, by `prepare`: npm runs that after installing a git
// dependency with its devDependencies (so `npm install -g github:…/wsproxy` gets a working bin) and on a plain
// `npm install`/`npm ci` in a checkout, where an existing build is left alone.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
if (process.argv.includes('--if-missing') && existsSync(join(root, 'dist', 'src', 'main.js'))) process.exit(0);
rmSync(join(root, 'dist', 'src'), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(result.status ?? 1);
