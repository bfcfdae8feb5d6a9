// The operator's own plugins by path: --token-plugin ./resolver.mjs and --auth-plugin ./auth.mjs, through the real CLI.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import {
  REPO_ROOT,
  closed,
  exchange,
  runCli,
  spawnDaemon,
  startEchoTarget,
  statusOf,
  upgradeRequest,
  waitFor,
  type CliResult,
} from '../../helpers/proxy.js';

// The fixtures stay in the source tree (tsc compiles only .ts); tests find them from the repository root.
const PLUGINS = join(REPO_ROOT, 'test', 'fixtures', 'plugins');

// The state home as before: a fresh one would add a "made the key for token_hash" line to stderr.
const run = (args: string[]): CliResult => runCli(args, { cwd: REPO_ROOT, keepStateHome: true });

async function echoThrough(port: number, path: string, headers: Record<string, string> = {}): Promise<string> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
  await once(ws, 'open');
  const reply = once(ws, 'message');
  ws.send(Buffer.from('ping through the plugin'));
  const [data] = (await reply) as [Buffer];
  ws.close();
  await closed(ws);
  return data.toString();
}

describe('--token-plugin PATH', () => {
  test('a factory module: good token relays, unknown → 404, throwing → 503 logged without the token, bad answer → 503', async () => {
    const echo = await startEchoTarget();
    // A relative path, resolved against the daemon's working directory (the repository root here).
    const d = await spawnDaemon([
      '--token-plugin',
      './test/fixtures/plugins/resolver-factory.mjs',
      '--token-source',
      `127.0.0.1:${echo.port}`,
      '127.0.0.1:0',
    ]);
    try {
      assert.equal(await echoThrough(d.port, '/websockify?token=good'), 'ping through the plugin');
      assert.equal(await echoThrough(d.port, '/websockify?token=path-check'), 'ping through the plugin');
      const status = async (path: string): Promise<string> => exchange(d.port, upgradeRequest(path));
      const unknown = await status('/websockify?token=nope');
      assert.equal(statusOf(unknown), 404);
      assert.match(unknown, /X-Wsproxy-Reason: TOKEN_UNKNOWN/);
      assert.equal(statusOf(await status('/websockify?token=good-unix-style-null')), 404);
      assert.equal(statusOf(await status('/other?token=path-check')), 404);
      const missing = await status('/websockify');
      assert.equal(statusOf(missing), 401);
      const secret = 'boom-s3cr3t-t0ken';
      const boom = await status(`/websockify?token=${secret}`);
      assert.equal(statusOf(boom), 503);
      assert.match(boom, /X-Wsproxy-Reason: TOKEN_SOURCE_DOWN/);
      assert.doesNotMatch(boom, /lookup failed/);
      await waitFor(() => /token plugin failed/.test(d.stderr()), 3000, 'the plugin failure log line');
      assert.match(d.stderr(), /token plugin failed .*error="Error: lookup failed for \*\*\*"/);
      assert.doesNotMatch(d.stderr(), /s3cr3t/);
      assert.equal(statusOf(await status('/websockify?token=bad-answer')), 503);
      assert.match(d.stderr(), /token plugin gave an invalid answer/);
      // Still serving after all that.
      assert.equal(await echoThrough(d.port, '/websockify?token=good'), 'ping through the plugin');
    } finally {
      await d.stop();
      await echo.close();
    }
  });

  test('a class module (absolute path) and a plain-object module (a unix target that is not there → 502)', async () => {
    const echo = await startEchoTarget();
    const a = await spawnDaemon([
      '--token-plugin',
      join(PLUGINS, 'resolver-class.mjs'),
      '--token-source',
      `127.0.0.1:${echo.port}`,
      '127.0.0.1:0',
    ]);
    const b = await spawnDaemon(['--token-plugin', join(PLUGINS, 'resolver-object.mjs'), '127.0.0.1:0']);
    try {
      assert.equal(await echoThrough(a.port, '/?token=good'), 'ping through the plugin');
      assert.equal(statusOf(await exchange(a.port, upgradeRequest('/?token=bad'))), 404);
      assert.equal(statusOf(await exchange(b.port, upgradeRequest('/?token=other'))), 404);
      assert.equal(statusOf(await exchange(b.port, upgradeRequest('/?token=sock'))), 502);
    } finally {
      await a.stop();
      await b.stop();
      await echo.close();
    }
  });

  const bad: [string, string[], RegExp][] = [
    [
      'a missing file',
      ['--token-plugin', './nope/missing.mjs'],
      /^wsproxy: --token-plugin: '.*\/nope\/missing\.mjs' is not a file; give the path of an ES module/,
    ],
    [
      'a module without resolve()',
      ['--token-plugin', join(PLUGINS, 'not-a-resolver.mjs')],
      /^wsproxy: --token-plugin: the default export of not-a-resolver\.mjs must be an object with a resolve\(\) method/,
    ],
    [
      'a module that throws at import',
      ['--token-plugin', join(PLUGINS, 'throws-at-import.mjs')],
      /^wsproxy: --token-plugin: cannot load .*throws-at-import\.mjs \(this module is broken on purpose\)/,
    ],
    [
      'a class whose constructor throws',
      ['--token-plugin', join(PLUGINS, 'resolver-class.mjs')],
      /^wsproxy: --token-plugin: resolver-class\.mjs failed to start \(/,
    ],
    [
      'a module plus a target',
      ['--token-plugin', join(PLUGINS, 'resolver-class.mjs'), '127.0.0.1:0', '127.0.0.1:1'],
      /exclude each other/,
    ],
    [
      'a missing auth module',
      ['--auth-plugin', './nope/auth.mjs', '127.0.0.1:0', '127.0.0.1:1'],
      /^wsproxy: --auth-plugin: '.*\/nope\/auth\.mjs' is not a file/,
    ],
    [
      'an auth module without check()',
      ['--auth-plugin', join(PLUGINS, 'not-a-resolver.mjs'), '127.0.0.1:0', '127.0.0.1:1'],
      /^wsproxy: --auth-plugin: the default export of not-a-resolver\.mjs must be an object with a check\(\) method/,
    ],
  ];
  for (const [name, args, expected] of bad) {
    test(`${name}: one line, exit 2, no stack trace`, () => {
      const r = run(args.includes('127.0.0.1:0') ? args : [...args, '127.0.0.1:0']);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, expected);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    });
  }
});

describe('--auth-plugin PATH', () => {
  test('allow, 401 with the plugin headers, 403, and a throwing plugin denies (fail closed) with a log line', async () => {
    const echo = await startEchoTarget();
    const d = await spawnDaemon([
      '--auth-plugin',
      './test/fixtures/plugins/auth-token-header.mjs',
      '--auth-source',
      'let-me-in',
      '-v',
      '127.0.0.1:0',
      `127.0.0.1:${echo.port}`,
    ]);
    try {
      assert.equal(await echoThrough(d.port, '/', { Authorization: 'Bearer let-me-in' }), 'ping through the plugin');
      await waitFor(() => /identity=fixture-user/.test(d.stderr()), 3000, 'identity in the session log');
      const none = await exchange(d.port, upgradeRequest('/'));
      assert.equal(statusOf(none), 401);
      assert.match(none, /WWW-Authenticate: Bearer/);
      assert.equal(statusOf(await exchange(d.port, upgradeRequest('/', { Authorization: 'Bearer wrong' }))), 403);
      assert.equal(statusOf(await exchange(d.port, upgradeRequest('/', { Authorization: 'Bearer boom' }))), 403);
      await waitFor(() => /auth plugin failed; denied/.test(d.stderr()), 3000, 'log line');
      assert.match(d.stderr(), /auth backend down \(tried secret \*\*\*\)/);
      assert.doesNotMatch(d.stderr(), /let-me-in/);
    } finally {
      await d.stop();
      await echo.close();
    }
  });
});
