// What a configuration reload may change (src/reload.ts): the option-by-option diff, the restart-only parts kept as
// they run, every command-line option classified, one outcome for --workers, and reload lines without values.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseCommandLine } from '../../src/cli.js';
import { OPTION_NAMES } from '../../src/config/options/index.js';
import { resolveConfig } from '../../src/config/index.js';
import type { Config } from '../../src/config/types.js';
import { createLogger } from '../../src/log.js';
import { createRequestPolicy } from '../../src/policy/request-policy.js';
import {
  applicableConfig,
  combineWorkerResults,
  diffConfig,
  logReload,
  NOT_RELOADED_OPTIONS,
  reloadFailed,
  RELOAD_FIELDS,
} from '../../src/reload.js';

const dir = mkdtempSync(join(tmpdir(), 'wsproxy-reload-unit-'));
const adminToken = join(dir, 'admin-token');
writeFileSync(adminToken, 'admin-secret-d00d\n');

/** A Config from a command line, as process/config-source.ts builds it. */
function configOf(...argv: string[]): Config {
  const command = parseCommandLine(argv, {});
  if (command.kind !== 'run') throw new Error('not a run command line');
  return resolveConfig(command.args, dir, { HOME: dir });
}

describe('configuration reload: what changed', () => {
  test('every command-line option is either compared by a reload or not part of a serving configuration', () => {
    const covered = new Set([...RELOAD_FIELDS.flatMap((f) => f.flags), ...NOT_RELOADED_OPTIONS]);
    const missing = OPTION_NAMES.filter((o) => !covered.has(o));
    assert.deepEqual(missing, [], 'classify these options in RELOAD_FIELDS (live or restart) or NOT_RELOADED_OPTIONS');
    const names = RELOAD_FIELDS.map((f) => f.name);
    assert.equal(new Set(names).size, names.length, 'field names are unique');
  });

  test('live options are "changed", the listener and process options "restart needed", unchanged ones neither', () => {
    const running = configOf(
      '127.0.0.1:6080',
      '127.0.0.1:5900',
      '--allow-origin',
      'https://a.example',
      '--log-level',
      'info',
    );
    assert.deepEqual(
      diffConfig(
        running,
        configOf('127.0.0.1:6080', '127.0.0.1:5900', '--allow-origin', 'https://a.example', '--log-level', 'info'),
      ),
      { changed: [], restartNeeded: [] },
    );
    const next = configOf(
      '127.0.0.1:6081',
      '127.0.0.1:5901',
      '--allow-origin',
      'https://b.example',
      '--log-level',
      'debug',
      '--rate-limit',
      '5/s',
      '--workers',
      '2',
      '--pid-file',
      join(dir, 'pid'),
    );
    assert.deepEqual(diffConfig(running, next), {
      changed: ['target', 'allow-origin', 'log-level', 'rate-limit'],
      restartNeeded: ['listen', 'workers', 'pid-file'],
    });
  });

  test('the applied configuration keeps what needs a restart and takes everything else', () => {
    const running = configOf(
      '127.0.0.1:6080',
      '127.0.0.1:5900',
      '--admin-listen',
      '127.0.0.1:9090',
      '--drain-timeout',
      '30',
      '--timeout',
      '60',
    );
    const next = configOf(
      '127.0.0.1:6081',
      '127.0.0.1:5901',
      '--admin-listen',
      '127.0.0.1:9191',
      '--admin-token-file',
      adminToken,
      '--drain-timeout',
      '5',
      '--timeout',
      '0',
      '--log-file',
      join(dir, 'log'),
    );
    const applied = applicableConfig(running, next);
    assert.deepEqual(applied.listen, running.listen);
    assert.equal(applied.log.file, undefined);
    assert.deepEqual(applied.admin?.listen, running.admin?.listen);
    assert.equal(applied.admin?.token, 'admin-secret-d00d', 'the admin token may change');
    assert.equal(applied.lifecycle?.timeoutMs, 60_000);
    assert.equal(applied.lifecycle?.drainTimeoutMs, 5_000, '--drain-timeout applies live');
    assert.deepEqual(applied.targets, next.targets);
    // What remains to restart is exactly what the diff reported.
    assert.deepEqual(diffConfig(running, applied).restartNeeded, []);
    assert.deepEqual(diffConfig(running, next).restartNeeded, ['listen', 'admin-listen', 'log-file', 'timeout']);
  });

  test('reload lines name options, never their values', () => {
    const written: string[] = [];
    const log = createLogger({ level: 'debug', format: 'text', sink: { write: (l: string) => written.push(l) } });
    const running = configOf(
      '127.0.0.1:6080',
      '127.0.0.1:5900',
      '--key-password',
      'keypass-1f3a',
      '--auth-plugin',
      'BasicHTTPAuth',
      '--auth-source',
      'op:basic-77c2',
    );
    const next = configOf(
      '127.0.0.1:6080',
      '127.0.0.1:5900',
      '--key-password',
      'keypass-9e0b',
      '--auth-plugin',
      'BasicHTTPAuth',
      '--auth-source',
      'op:basic-1d4e',
    );
    const changes = diffConfig(running, next);
    assert.deepEqual(changes.changed, ['key-password', 'auth-source']);
    logReload(log, { ok: true, ...changes }, { why: 'test' });
    logReload(log, reloadFailed('CONFIG_SYNTAX', '--config x.yaml: not valid YAML or JSON (line 1)'), { why: 'test' });
    const text = written.join('');
    assert.match(text, /INFO {2}configuration reloaded why=test changed=key-password,auth-source/);
    assert.match(
      text,
      /ERROR configuration reload refused; the running configuration stays in use why=test reason=CONFIG_SYNTAX/,
    );
    for (const secret of ['keypass-1f3a', 'keypass-9e0b', 'basic-77c2', 'basic-1d4e'])
      assert.ok(!text.includes(secret), secret);
  });
});

describe('configuration reload: --workers outcome', () => {
  test('applied everywhere: the union of the changes; one refusal or silence: refused, naming the workers', () => {
    const ok = (changed: string[], restartNeeded: string[] = []) => ({ ok: true, changed, restartNeeded });
    const all = combineWorkerResults([
      { worker: 1, result: ok(['allow-origin']) },
      { worker: 2, result: ok(['allow-origin', 'cert'], ['listen']) },
    ]);
    assert.deepEqual(all, {
      result: { ok: true, changed: ['allow-origin', 'cert'], restartNeeded: ['listen'] },
      fields: { workers: 2 },
    });
    const one = combineWorkerResults([
      { worker: 1, result: ok([]) },
      { worker: 2, result: reloadFailed('CERTIFICATE_UNUSABLE', 'bad key') },
    ]);
    assert.equal(one.result.ok, false);
    assert.deepEqual(one.fields, { workers_refused: '2', workers_applied: '1' });
    const silent = combineWorkerResults([{ worker: 3, result: undefined }]);
    assert.deepEqual(silent.result, reloadFailed('RELOAD_UNAVAILABLE', 'worker 3 did not answer'));
    assert.deepEqual(silent.fields, { workers_refused: '3' });
  });
});

describe('configuration reload: policy state', () => {
  test('a lowered per-token cap counts the sessions admitted before the reload; an unchanged rate keeps its buckets', async () => {
    const policy = {
      maxSessionsPerToken: 0,
      rateLimit: { perSecond: 1, burst: 1 },
      allowTargets: [],
      allowedHosts: [],
      revalidateIntervalMs: 0,
    };
    const clock = () => 1_000;
    const before = createRequestPolicy(undefined, policy, clock);
    const first = await before.tokenSlot('h1');
    const second = await before.tokenSlot('h1');
    assert.ok(first.ok && second.ok, 'no cap before');
    const conn = {
      id: 1,
      remoteAddress: '192.0.2.1',
      remotePort: 1,
      tls: false,
      log: createLogger({ level: 'error', format: 'text', sink: { write: () => 0 } }),
      handshakeDone: () => {},
      localAddress: undefined,
      localPort: undefined,
    };
    const req = { headers: { host: 'x' }, headersDistinct: {} } as unknown as Parameters<typeof before.preflight>[0];
    assert.equal(before.preflight(req, conn), undefined);
    const after = createRequestPolicy(undefined, { ...policy, maxSessionsPerToken: 2 }, clock, before);
    const third = await after.tokenSlot('h1');
    assert.equal(third.ok, false, 'two live sessions already: the new cap of 2 is reached');
    assert.equal(after.preflight(req, conn)?.code, 'RATE_LIMITED', 'the bucket emptied before the reload stays empty');
    if (first.ok) first.release();
    assert.equal((await after.tokenSlot('h1')).ok, true, 'a slot freed by an old session is usable');
    const newRate = createRequestPolicy(
      undefined,
      { ...policy, rateLimit: { perSecond: 10, burst: 10 } },
      clock,
      after,
    );
    assert.equal(newRate.preflight(req, conn), undefined, 'a new rate starts with full buckets');
  });
});
