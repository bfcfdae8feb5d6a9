// The bench must keep running: a tiny run (1 MiB bulk, round trips, 40 connections, one repetition) has to build the
// C load generator, finish and print its rows for socat, the Node pipe relay and wsproxy over ws:// and wss://.
// Figures are never asserted here (they live in bench/).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../../helpers/proxy.js';

test('npm run bench completes a tiny run and writes its JSON', () => {
  const json = join(mkdtempSync(join(tmpdir(), 'wsproxy-bench-smoke-')), 'bench.json');
  const r = spawnSync(
    process.execPath,
    [
      join(REPO_ROOT, 'dist', 'bench', 'bench.js'),
      '--only',
      'bulk,rtt,rate',
      '--reps',
      '1',
      '--bytes',
      String(1024 * 1024),
      '--conns',
      '40',
      '--json',
      json,
    ],
    {
      encoding: 'utf8',
      timeout: 90_000,
    },
  );
  assert.equal(r.status, 0, r.stderr + r.stdout);
  for (const row of ['socat', 'node pipe', 'wsproxy ws://', 'wsproxy wss://'])
    assert.match(r.stdout, new RegExp(`^  ${row}`, 'm'), row);
  const results = (
    JSON.parse(readFileSync(json, 'utf8')) as { results: Record<string, Record<string, { median: number }>> }
  ).results;
  assert.ok((results['bulk_up_plain']?.['wsproxy ws://']?.median ?? 0) > 0);
  assert.ok((results['bulk_down_tls']?.['wsproxy wss://']?.median ?? 0) > 0);
  assert.ok((results['rtt_p50_TLS']?.['wsproxy wss://']?.median ?? 0) > 0);
  assert.ok((results['rate_plain']?.['wsproxy ws://']?.median ?? 0) > 0);
});
