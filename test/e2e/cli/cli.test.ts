// The real command line as a child process: errors, the --demo start, signals, and docs/ staying true to --help.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { OPTION_NAMES } from '../../../src/config/options/index.js';
import { REASONS, RELOAD_REASONS } from '../../../src/errors.js';
import {
  REPO_ROOT,
  openWs,
  runCli,
  spawnDaemon,
  startEchoTarget,
  closed,
  type CliResult,
} from '../../helpers/proxy.js';

const run = (args: string[]): CliResult => runCli(args, { timeoutMs: 10_000 });

describe('command-line errors', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown flag', ['--bogus', '6080', 'localhost:5900'], /unknown option --bogus/],
    ['bad listen port', ['70000', 'localhost:5900'], /source_port: port 70000 is out of range/],
    ['missing target', ['6080'], /missing the target/],
    ['missing everything', [], /missing the listen port/],
    ['target without port', ['6080', 'localhost'], /needs a host and a port/],
    ['bad size', ['--max-message-size', '12XB', '6080', 'localhost:5900'], /--max-message-size: '12XB' is not a size/],
    ['bad timeout', ['--connect-timeout', 'soon', '6080', 'localhost:5900'], /--connect-timeout/],
    [
      'a --cert that does not exist',
      ['--ssl-only', '--cert', '/nonexistent/x.pem', '6080', 'localhost:5900'],
      /--cert: '\/nonexistent\/x.pem' not found; .*make-self-signed\.sh/,
    ],
    [
      'a bad --verify-client mode',
      ['--verify-client=sometimes', '6080', 'localhost:5900'],
      /--verify-client: 'sometimes' is not one of off, optional, required/,
    ],
    [
      '--cafile without --verify-client',
      ['--cafile', '/etc/hosts', '6080', 'localhost:5900'],
      /--cafile checks client certificates; add --verify-client/,
    ],
    [
      'a missing --cafile',
      ['--verify-client', '--cafile', '/nonexistent/ca.pem', '6080', 'localhost:5900'],
      /--cafile: '\/nonexistent\/ca.pem' is not a readable file/,
    ],
    [
      'a bad --tls-profile',
      ['--tls-profile', 'old', '6080', 'localhost:5900'],
      /--tls-profile: 'old' is not one of intermediate, modern/,
    ],
    [
      'a bad --ssl-version',
      ['--ssl-version', 'sslv3', '6080', 'localhost:5900'],
      /--ssl-version: 'sslv3' is not one of default, tlsv1_1, tlsv1_2, tlsv1_3/,
    ],
    [
      'an unknown cipher',
      ['--ssl-ciphers', 'NOPE-CIPHER', '6080', 'localhost:5900'],
      /--ssl-ciphers: OpenSSL accepts no TLS 1.2 cipher/,
    ],
    [
      'TLS 1.2 ciphers with the modern profile',
      ['--tls-profile', 'modern', '--ssl-ciphers', 'ECDHE-RSA-AES128-GCM-SHA256', '6080', 'h:1'],
      /--tls13-ciphers/,
    ],
    [
      'an unknown curve',
      ['--ecdh-curve', 'curve9000', '6080', 'localhost:5900'],
      /--ecdh-curve: OpenSSL supports none of 'curve9000'/,
    ],
    [
      'a bad --hsts',
      ['--hsts', 'forever', '6080', 'localhost:5900'],
      /--hsts: 'forever' is not a whole number of seconds/,
    ],
    [
      'a bad --client-cert-allow',
      ['--verify-client', 'optional', '--client-cert-allow', 'a*b', '6080', 'h:1'],
      /--client-cert-allow: 'a\*b'/,
    ],
    [
      'ClientCertCNAuth without client certificates',
      ['--auth-plugin', 'ClientCertCNAuth', '--auth-source', 'alice', '6080', 'h:1'],
      /needs client certificates: add --verify-client/,
    ],
    [
      '--web not a directory',
      ['--web', '/nonexistent-dir', '6080', 'localhost:5900'],
      /--web: '\/nonexistent-dir' is not a directory/,
    ],
    ['--demo with a target', ['--demo', '6080', 'localhost:5900'], /--demo runs its own echo target/],
    ['option without value', ['6080', 'localhost:5900', '--cert'], /--cert needs a value/],
    [
      '--token-source without a plugin',
      ['--token-source', '/etc/hosts', '6080'],
      /--token-source needs --token-plugin/,
    ],
    [
      'an unknown token plugin',
      ['--token-plugin', 'Nope', '--token-source', '/etc/hosts', '6080'],
      /'Nope' is not available; choose one of TokenFile/,
    ],
    [
      'a target with a token plugin',
      ['--token-plugin', 'TokenFile', '--token-source', '/etc/hosts', '6080', 'h:1'],
      /exclude each other/,
    ],
    [
      'a missing token source',
      ['--token-plugin', 'TokenFile', '--token-source', '/nonexistent/tokens', '6080'],
      /--token-source: '\/nonexistent\/tokens' is not a file or directory/,
    ],
    ['--host-token without a plugin', ['--host-token', '6080', 'h:1'], /--host-token needs --token-plugin/],
    ['a bad heartbeat', ['--heartbeat', 'often', '6080', 'h:1'], /--heartbeat: 'often'/],
  ];
  for (const [name, args, expected] of cases) {
    test(`${name}: one line on stderr, exit 2, no stack trace`, () => {
      const r = run(args);
      assert.equal(r.status, 2, r.stderr);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0] ?? '', /^wsproxy: /);
      assert.match(r.stderr, expected);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    });
  }

  test('the key password never appears in an error', () => {
    const r = run(['--key-password', 'hunter2-secret', '--key', '/nonexistent.key', '6080', 'localhost:5900']);
    assert.equal(r.status, 2);
    assert.doesNotMatch(r.stderr, /hunter2-secret/);
  });

  test('a port in use is one line and a non-zero exit', async () => {
    const target = await startEchoTarget(); // its port is taken
    try {
      const r = run([`127.0.0.1:${target.port}`, 'localhost:5900']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /address is in use/);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1);
    } finally {
      await target.close();
    }
  });

  test('--help and --version exit 0', () => {
    const help = run(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--max-connections-per-ip/);
    const version = run(['--version']);
    assert.equal(version.status, 0);
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(version.stdout.trim(), pkg.version);
  });
});

describe('the daemon', () => {
  test('--demo starts with a fresh self-signed certificate and echoes over ws:// and wss:// on one port', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'wsproxy-state-'));
    const d = await spawnDaemon(['--demo', '--state-dir', stateDir, '127.0.0.1:0']);
    try {
      const pem = readFileSync(join(stateDir, 'self-signed.pem'), 'utf8');
      assert.match(d.stderr(), /certificate sha256=/);
      for (const scheme of ['ws', 'wss']) {
        const ws = await openWs(`${scheme}://127.0.0.1:${d.port}/websockify`, { ca: pem });
        ws.send(Buffer.from(`hi over ${scheme}`));
        const [data] = (await once(ws, 'message')) as [Buffer];
        assert.equal(data.toString(), `hi over ${scheme}`);
        ws.close();
        await closed(ws);
      }
    } finally {
      assert.equal(await d.stop(), 0);
    }
  });

  test('SIGTERM with --drain-timeout 0 closes live sessions with 1001 at once and exits 0', async () => {
    const target = await startEchoTarget();
    const d = await spawnDaemon(['127.0.0.1:0', `127.0.0.1:${target.port}`, '--drain-timeout', '0']);
    try {
      const ws = await openWs(`ws://127.0.0.1:${d.port}/`);
      const closing = closed(ws);
      const code = await d.stop('SIGTERM');
      assert.equal((await closing).code, 1001);
      assert.equal(code, 0);
      assert.match(d.stderr(), /shutting down reason=SIGTERM sessions=1/);
      assert.match(d.stderr(), /reason=SERVER_SHUTDOWN/);
    } finally {
      await d.stop('SIGKILL');
      await target.close();
    }
  });
});

describe('--config file and WSPROXY_* environment', () => {
  test('a daemon configured by a YAML file and the environment alone relays; a flag beats both', async () => {
    const target = await startEchoTarget();
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-cfg-'));
    const file = join(dir, 'wsproxy.yaml');
    writeFileSync(
      file,
      `listen: "127.0.0.1:0"\ntarget: "127.0.0.1:${target.port}"\nlog-format: json\nhandshake-timeout: 3\n`,
    );
    const d = await spawnDaemon(['--config', file, '--log-format', 'text'], {
      WSPROXY_LOG_FORMAT: 'json',
      WSPROXY_VERBOSE: 'true',
    });
    try {
      const ws = await openWs(`ws://127.0.0.1:${d.port}/`);
      ws.send(Buffer.from('configured'));
      const [echo] = (await once(ws, 'message')) as [Buffer];
      assert.equal(echo.toString(), 'configured');
      ws.close(1000);
      await closed(ws);
      // text (the flag) beat json (environment and file); debug lines (environment) are on.
      assert.match(d.stderr(), /^\S+ INFO {2}listening address=/m);
      assert.match(d.stderr(), / DEBUG /);
    } finally {
      await d.stop('SIGKILL');
      await target.close();
    }
  });
});

describe('docs stay true', () => {
  const options = readFileSync(join(REPO_ROOT, 'docs', 'options.md'), 'utf8');
  const errors = readFileSync(join(REPO_ROOT, 'docs', 'errors.md'), 'utf8');

  test('every command-line option is in the docs/options.md flag table', () => {
    const missing = OPTION_NAMES.filter((name) => !options.includes(`| \`--${name}`));
    assert.deepEqual(missing, []);
  });

  test('every flag in the docs/options.md table exists', () => {
    const inTable = [...options.matchAll(/^\| `--([a-z0-9-]+)/gm)].map((m) => m[1]);
    assert.ok(inTable.length > 10);
    assert.deepEqual(
      inTable.filter((n) => n !== undefined && !OPTION_NAMES.includes(n)),
      [],
    );
  });

  test('every reason code is in the docs/errors.md error-code catalogue', () => {
    const missing = Object.keys(REASONS).filter((code) => !errors.includes(`| \`${code}\``));
    assert.deepEqual(missing, []);
  });

  test('every reload reason code is in the docs/errors.md reload-error table', () => {
    const table = errors.slice(errors.indexOf('## Reload errors'));
    const missing = Object.keys(RELOAD_REASONS).filter((code) => !table.includes(`| \`${code}\` |`));
    assert.deepEqual(missing, []);
  });
});

describe('the embedded default certificate', () => {
  test('no --cert and no self.pem: one is made once in the state dir, its fingerprint printed; a restart reuses it', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'wsproxy-cwd-'));
    const xdg = mkdtempSync(join(tmpdir(), 'wsproxy-xdg-'));
    const target = await startEchoTarget();
    const pemFile = join(xdg, 'wsproxy', 'self-signed.pem');
    let fingerprint: string;
    try {
      const d = await spawnDaemon(['127.0.0.1:0', `127.0.0.1:${target.port}`], { XDG_STATE_HOME: xdg }, cwd);
      try {
        assert.match(d.stderr(), /made a self-signed certificate .*file=\S*self-signed\.pem/);
        assert.equal(statSync(pemFile).mode & 0o777, 0o600);
        const pem = readFileSync(pemFile, 'utf8');
        const cert = new X509Certificate(pem);
        fingerprint = cert.fingerprint256;
        assert.ok(d.stderr().includes(`certificate sha256=${fingerprint}`), d.stderr());
        assert.ok(cert.checkHost('localhost') && cert.checkIP('127.0.0.1'), cert.subjectAltName);
        if (/^[a-z0-9.-]+$/i.test(hostname())) assert.ok(cert.checkHost(hostname().toLowerCase()), cert.subjectAltName);
        const ws = await openWs(`wss://127.0.0.1:${d.port}/websockify`, { ca: pem });
        ws.send(Buffer.from('default'));
        const [data] = (await once(ws, 'message')) as [Buffer];
        assert.equal(data.toString(), 'default');
        ws.close();
        await closed(ws);
      } finally {
        assert.equal(await d.stop(), 0);
      }
      const again = await spawnDaemon(['127.0.0.1:0', `127.0.0.1:${target.port}`], { XDG_STATE_HOME: xdg }, cwd);
      try {
        assert.doesNotMatch(again.stderr(), /made a self-signed certificate/);
        assert.ok(again.stderr().includes(`certificate sha256=${fingerprint}`));
      } finally {
        await again.stop();
      }
      // A self.pem in the working directory wins (websockify's default file); nothing is generated.
      const mine = join(mkdtempSync(join(tmpdir(), 'wsproxy-cwd-')), 'self.pem');
      writeFileSync(mine, readFileSync(pemFile));
      const xdg2 = mkdtempSync(join(tmpdir(), 'wsproxy-xdg-'));
      const withSelf = await spawnDaemon(
        ['127.0.0.1:0', `127.0.0.1:${target.port}`],
        { XDG_STATE_HOME: xdg2 },
        join(mine, '..'),
      );
      try {
        assert.doesNotMatch(withSelf.stderr(), /made a self-signed certificate/);
        assert.ok(withSelf.stderr().includes(`certificate sha256=${fingerprint}`));
      } finally {
        await withSelf.stop();
      }
    } finally {
      await target.close();
    }
  });
});
