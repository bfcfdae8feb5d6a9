// Issue #7: "a test greps the logs of a full run for the secrets it used". In both log formats at --log-level debug,
// the real CLI serves a full set of sessions and refusals that carry every kind of secret wsproxy handles (token in
// the query and in the path, Basic password in Authorization, a cookie, the key passphrase, the admin bearer token,
// the Redis password in a redis:// URL, a password query parameter, the .p12 password of `cert user`), and every
// byte of log output (stderr, --log-file, syslog, the --workers processes) is searched for each of them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type WebSocket from 'ws';
import { adminRequest } from '../../helpers/admin.js';
import {
  runCli,
  closed,
  exchange,
  openWs,
  redisCli,
  spawnDaemon,
  startEchoTarget,
  startRedis,
  statusOf,
  upgradeRequest,
  waitFor,
} from '../../helpers/proxy.js';

const SECRETS = {
  token: 'tokSECRET-8c1f5a',
  wrongToken: 'guessSECRET-77aa',
  pathToken: 'pathTOKEN-4b9e01',
  wrongPathToken: 'pathGUESS-6d2c7a',
  basic: 'basicPASS-3e9d1c',
  wrongBasic: 'wrongPASS-0b7c44',
  keyPassword: 'keyPASS-d41d8c',
  cookie: 'cookieSECRET-5150',
  queryPassword: 'queryPASS-90af3e',
  adminToken: 'adminTOKEN-5f2c9e',
  wrongAdminToken: 'adminGUESS-12ab34',
  redisPassword: 'redisPASS-77e1d0',
  p12Password: 'p12PASS-a8c3f2',
} as const;

// The encoded forms a secret travels in must not appear either.
const base64 = (s: string): string => Buffer.from(s).toString('base64');
const ALL_SECRETS = [
  ...Object.values(SECRETS),
  base64(`operator:${SECRETS.basic}`),
  base64(`operator:${SECRETS.wrongBasic}`),
];

function assertNoSecret(where: string, text: string): void {
  for (const secret of ALL_SECRETS) {
    // The failure names the line (with the secret masked, so the test output does not repeat it).
    const line = text.split('\n').find((l) => l.includes(secret));
    assert.ok(
      line === undefined,
      `${where}: a secret (${secret.slice(0, 6)}…) appeared in the logs: ${line?.replaceAll(secret, '<SECRET>')}`,
    );
  }
}

async function echo(ws: WebSocket, text: string): Promise<string> {
  const got = once(ws, 'message') as Promise<[Buffer]>;
  ws.send(Buffer.from(text));
  return (await got)[0].toString();
}

/** The fields of one log line, whichever the format (text values may be JSON-quoted). */
function parseLine(format: 'json' | 'text', line: string): Record<string, unknown> {
  if (format === 'json') return JSON.parse(line) as Record<string, unknown>;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (DEBUG|INFO |WARN |ERROR) (.*)$/.exec(line);
  assert.ok(m, `not a text log line: ${line}`);
  const fields: Record<string, unknown> = { time: m[1], level: m[2]?.trim().toLowerCase() };
  const rest = m[3] ?? '';
  const firstField = rest.search(/ [a-z_][a-z0-9_]*=/);
  fields['msg'] = firstField < 0 ? rest : rest.slice(0, firstField);
  for (const f of rest
    .slice(firstField < 0 ? rest.length : firstField)
    .matchAll(/ ([a-z_][a-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const raw = f[2] ?? '';
    fields[f[1] ?? ''] = raw.startsWith('"') ? (JSON.parse(raw) as string) : /^-?\d+$/.test(raw) ? Number(raw) : raw;
  }
  return fields;
}

function udpListener(): Promise<{ port: number; messages: string[]; close(): void }> {
  const socket = createSocket('udp4');
  const messages: string[] = [];
  socket.on('error', () => {});
  socket.on('message', (m) => messages.push(m.toString('utf8')));
  socket.bind(0, '127.0.0.1');
  return once(socket, 'listening').then(() => ({ port: socket.address().port, messages, close: () => socket.close() }));
}

describe('logs of a full run keep every secret out', () => {
  for (const format of ['json', 'text'] as const) {
    test(`--log-format ${format} --log-level debug: stderr, --log-file, syslog and --workers lines hold none of the secrets used`, async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'wsproxy-secrets-'));
      const key = join(dir, 'key.pem');
      const cert = join(dir, 'cert.pem');
      execFileSync('openssl', [
        'genpkey',
        '-algorithm',
        'EC',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-aes-256-cbc',
        '-pass',
        `pass:${SECRETS.keyPassword}`,
        '-out',
        key,
      ]);
      execFileSync('openssl', [
        'req',
        '-new',
        '-x509',
        '-key',
        key,
        '-passin',
        `pass:${SECRETS.keyPassword}`,
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-days',
        '2',
        '-out',
        cert,
      ]);
      const ca = readFileSync(cert, 'utf8');
      const target = await startEchoTarget();
      t.after(() => target.close());
      const tokens = join(dir, 'tokens');
      writeFileSync(tokens, `${SECRETS.token}: 127.0.0.1:${target.port}\n`);
      const adminTokenFile = join(dir, 'admin-token');
      writeFileSync(adminTokenFile, `${SECRETS.adminToken}\n`, { mode: 0o600 });
      const logFile = join(dir, 'wsproxy.log');
      const syslog = await udpListener();
      t.after(() => syslog.close());
      const redis = await startRedis(SECRETS.redisPassword);
      t.after(() => redis.stop());
      redisCli(redis.port, SECRETS.redisPassword, 'SET', `vnc:${SECRETS.pathToken}`, `127.0.0.1:${target.port}`);
      const logs: { where: string; text: string }[] = [];

      // 1. TLS with an encrypted key, TokenFile (?token=), Basic auth, a cookie, the admin listener with a bearer
      //    token; stderr, --log-file and --syslog.
      const a = await spawnDaemon([
        '127.0.0.1:0',
        '--cert',
        cert,
        '--key',
        key,
        '--key-password',
        SECRETS.keyPassword,
        '--token-plugin',
        'TokenFile',
        '--token-source',
        tokens,
        '--auth-plugin',
        'BasicHTTPAuth',
        '--auth-source',
        `operator:${SECRETS.basic}`,
        '--admin-listen',
        '127.0.0.1:0',
        '--admin-token-file',
        adminTokenFile,
        '--log-format',
        format,
        '--log-level',
        'debug',
        '--log-file',
        logFile,
        '--syslog',
        `127.0.0.1:${syslog.port}`,
      ]);
      const basic = (pass: string): string => `Basic ${base64(`operator:${pass}`)}`;
      try {
        await waitFor(() => a.stderr().includes('admin listener'), 5000, 'admin line');
        const adminLine =
          a
            .stderr()
            .split('\n')
            .find((l) => l.includes('admin listener')) ?? '';
        const admin = String(parseLine(format, adminLine)['admin']);
        const headers = { Authorization: basic(SECRETS.basic), Cookie: `session=${SECRETS.cookie}` };
        const ws = await openWs(
          `wss://127.0.0.1:${a.port}/websockify?token=${SECRETS.token}&password=${SECRETS.queryPassword}`,
          { ca, headers },
        );
        assert.equal(await echo(ws, 'over TLS with a token'), 'over TLS with a token');
        ws.close();
        await closed(ws);
        await assert.rejects(
          openWs(`wss://127.0.0.1:${a.port}/websockify?token=${SECRETS.token}`, {
            ca,
            headers: { Authorization: basic(SECRETS.wrongBasic) },
          }),
          /401/,
        );
        await assert.rejects(
          openWs(`wss://127.0.0.1:${a.port}/websockify?token=${SECRETS.wrongToken}`, { ca, headers }),
          /404/,
        );
        // Not an upgrade: a page request with the secrets in its query and headers.
        const page = await exchange(
          a.port,
          `GET /nothing-here?token=${SECRETS.token}&password=${SECRETS.queryPassword} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${basic(SECRETS.basic)}\r\nCookie: s=${SECRETS.cookie}\r\nConnection: close\r\n\r\n`,
          { tls: true, ca },
        );
        assert.ok(statusOf(page) >= 400, page.slice(0, 40));
        assert.equal((await adminRequest(admin, 'GET', '/sessions', SECRETS.wrongAdminToken)).status, 401);
        assert.equal((await adminRequest(admin, 'GET', '/metrics', SECRETS.adminToken)).status, 200);
        assert.equal(
          (await adminRequest(admin, 'GET', `/sessions?token=${SECRETS.token}`, SECRETS.adminToken)).status,
          200,
        );
        await waitFor(() => a.stderr().includes('session closed'), 5000, 'close line');
      } finally {
        assert.equal(await a.stop('SIGTERM'), 0);
      }
      await waitFor(() => syslog.messages.some((m) => m.includes('stopped')), 5000, 'the last line over syslog');
      logs.push(
        { where: 'stderr', text: a.stderr() },
        { where: '--log-file', text: readFileSync(logFile, 'utf8') },
        { where: 'syslog', text: syslog.messages.join('\n') },
      );

      // 2. Two --workers, TokenRedis from a redis:// URL with a password, the token as the last path segment; then
      //    Redis goes away (503 and its error lines).
      const b = await spawnDaemon([
        '127.0.0.1:0',
        '--workers',
        '2',
        '--token-plugin',
        'TokenRedis',
        '--token-source',
        `redis://:${SECRETS.redisPassword}@127.0.0.1:${redis.port}/0?namespace=vnc`,
        '--token-from-path',
        '--log-format',
        format,
        '--log-level',
        'debug',
      ]);
      try {
        let ws: WebSocket | undefined;
        for (let i = 0; i < 50 && ws === undefined; i++) {
          // The workers connect to Redis in the background: 503 until then.
          ws = await openWs(`ws://127.0.0.1:${b.port}/websockify/${SECRETS.pathToken}`).catch(() => undefined);
          if (ws === undefined) await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(ws, 'a session with the token in the path');
        assert.equal(await echo(ws, 'token in the path'), 'token in the path');
        ws.close();
        await closed(ws);
        // Each worker has its own Redis client: 503 from one still connecting, until both answer 404.
        let unknown = 0;
        for (let i = 0; i < 50 && unknown < 2; i++) {
          if (statusOf(await exchange(b.port, upgradeRequest(`/websockify/${SECRETS.wrongPathToken}`))) === 404)
            unknown++;
          else await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(unknown, 2, 'both workers answer 404 for an unknown token');
        await redis.stop();
        assert.equal(statusOf(await exchange(b.port, upgradeRequest(`/websockify/${SECRETS.pathToken}`))), 503);
        await waitFor(
          () => b.stderr().includes('session closed') && b.stderr().includes('TOKEN_SOURCE_DOWN'),
          5000,
          'close and 503 lines',
        );
      } finally {
        assert.equal(await b.stop('SIGTERM'), 0);
      }
      logs.push({ where: 'stderr (--workers, TokenRedis)', text: b.stderr() });

      // 3. `cert user`: the .p12 password from a file and from the environment.
      const pwFile = join(dir, 'p12-password');
      writeFileSync(pwFile, `${SECRETS.p12Password}\n`, { mode: 0o600 });
      for (const [args, env] of [
        [['cert', 'init', '--cert-dir', join(dir, 'ca'), '--host', 'localhost'], {}],
        [['cert', 'user', 'alice', '--cert-dir', join(dir, 'ca'), '--p12-password-file', pwFile], {}],
        [['cert', 'user', 'bob', '--cert-dir', join(dir, 'ca')], { WSPROXY_P12_PASSWORD: SECRETS.p12Password }],
      ] as const) {
        const r = runCli(args, { env, keepStateHome: true });
        assert.equal(r.status, 0, r.stderr);
        logs.push({ where: `wsproxy ${args.slice(0, 2).join(' ')}`, text: r.stdout + r.stderr });
      }

      for (const { where, text } of logs) assertNoSecret(where, text);

      // The runs did log what they did: every line is well-formed, debug lines are there, the close lines carry the
      // connection's facts, and the redaction left its marks.
      for (const [where, text] of [
        ['stderr', a.stderr()],
        ['--log-file', readFileSync(logFile, 'utf8')],
        ['stderr (--workers)', b.stderr()],
      ] as const) {
        for (const line of text.trim().split('\n'))
          assert.doesNotThrow(() => parseLine(format, line), `${where}: ${line}`);
      }
      const lines = [...a.stderr().trim().split('\n'), ...b.stderr().trim().split('\n')].map((l) =>
        parseLine(format, l),
      );
      assert.ok(
        lines.some((l) => l['level'] === 'debug'),
        'debug lines',
      );
      const closes = lines.filter((l) => l['msg'] === 'session closed');
      assert.equal(closes.length, 2, 'one close line per session');
      for (const close of closes) {
        for (const field of [
          'conn',
          'peer',
          'scheme',
          'target',
          'token_hash',
          'reason',
          'close_code',
          'bytes_from_client',
          'bytes_to_client',
          'duration_ms',
        ]) {
          assert.ok(field in close, `close line has ${field}: ${JSON.stringify(close)}`);
        }
      }
      assert.equal(closes[0]?.['bytes_from_client'], 21);
      assert.ok(
        lines.some((l) => l['reason'] === 'AUTH_REQUIRED' || l['reason'] === 'AUTH_FORBIDDEN'),
        'the refused password left a line',
      );
      assert.equal(lines.filter((l) => l['reason'] === 'TOKEN_UNKNOWN').length, 3, 'the unknown tokens left lines');
      assert.ok(
        lines.some((l) => l['reason'] === 'TOKEN_SOURCE_DOWN'),
        'Redis down left a line',
      );
      assert.match(a.stderr(), /token=\*\*\*/);
      assert.match(b.stderr(), /\/websockify\/\*\*\*/);
    });
  }
});
