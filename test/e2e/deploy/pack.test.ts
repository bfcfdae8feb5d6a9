// Installing from a checkout gives a working `wsproxy` (issue #12, finding 20): a clean copy of the checkout (the
// files git tracks or would track, no dist/, no build) is packed with the real `npm pack`, which must build dist/src
// on its own (prepack); the tarball is installed with `npm install -g` into a temporary prefix (dependencies from
// the npm cache), and the installed `wsproxy` answers --version and relays one WebSocket round trip.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT, openWs, startEchoTarget, waitFor } from '../../helpers/proxy.js';

/** Copies the checkout as a fresh clone would have it (tracked and new, not ignored, files) into `dest`. */
function cleanCopy(dest: string): void {
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  for (const file of listed.split('\0').filter((f) => f !== '' && existsSync(join(REPO_ROOT, f)))) {
    mkdirSync(dirname(join(dest, file)), { recursive: true });
    copyFileSync(join(REPO_ROOT, file), join(dest, file));
  }
  // The devDependencies the build needs, as `npm ci` would install them (without the time and network it takes).
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dest, 'node_modules'));
}

test('npm pack of a clean checkout builds dist/src; the installed wsproxy runs and relays', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'wsproxy-pack-'));
  const checkout = join(tmp, 'checkout');
  cleanCopy(checkout);
  assert.ok(!existsSync(join(checkout, 'dist')), 'the copy has no build');
  // Node on PATH for npm's scripts and for the installed bin's `#!/usr/bin/env node`.
  const env = {
    ...process.env,
    PATH: `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}`,
    XDG_STATE_HOME: tmp,
  };
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', tmp], {
      cwd: checkout,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  ) as { filename: string; files: { path: string }[] }[];
  const files = packed[0]?.files.map((f) => f.path) ?? [];
  assert.ok(files.includes('dist/src/main.js'), 'the bin is in the tarball');
  assert.ok(files.includes('dist/src/index.d.ts'), 'the types are in the tarball');
  assert.deepEqual(
    files.filter((f) => /^(dist\/test|dist\/bench|src|test)\//.test(f)),
    [],
    'no tests or sources',
  );

  const prefix = join(tmp, 'prefix');
  execFileSync(
    'npm',
    [
      'install',
      '-g',
      '--prefix',
      prefix,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      join(tmp, packed[0]?.filename ?? ''),
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const bin = join(prefix, 'bin', 'wsproxy');
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.match(
    execFileSync(bin, ['--version'], { env, encoding: 'utf8' }),
    new RegExp(`^${pkg.version.replace(/\./g, '\\.')}\\b`),
  );

  const target = await startEchoTarget();
  const proc = spawn(bin, ['--log-format', 'text', '127.0.0.1:0', `127.0.0.1:${target.port}`], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  try {
    await waitFor(() => /listening address=\S+:\d+/.test(err), 15_000, `installed wsproxy listening: ${err}`);
    const ws = await openWs(`ws://127.0.0.1:${/listening address=\S+:(\d+)/.exec(err)?.[1]}/websockify`);
    ws.send(Buffer.from('installed'));
    const [data] = (await once(ws, 'message')) as [Buffer];
    assert.equal(data.toString(), 'installed');
    ws.close();
  } finally {
    proc.kill();
    if (proc.exitCode === null) await once(proc, 'exit');
    await target.close();
  }
});
