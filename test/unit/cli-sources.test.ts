// Option sources besides argv: the --config file (YAML/JSON) and WSPROXY_* variables, and their precedence.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { configFileFromArgv, optionsFromEnv, optionsFromText, type OptionKinds } from '../../src/cli-sources.js';
import { envName, optionName } from '../../src/config/options/index.js';
import { parseCommandLine } from '../../src/cli.js';
import { SourceError, UsageError } from '../../src/errors.js';

const kinds: OptionKinds = {
  all: new Set(['cert', 'ssl-only', 'allow-origin', 'token-plugin', 'key-password']),
  booleans: new Set(['ssl-only']),
  arrays: new Set(['allow-origin']),
};

describe('names', () => {
  test('camelCase and snake_case keys map to flag names; flags to WSPROXY_ names', () => {
    assert.equal(optionName('tokenPlugin'), 'token-plugin');
    assert.equal(optionName('token_plugin'), 'token-plugin');
    assert.equal(optionName('cert'), 'cert');
    assert.equal(envName('token-plugin'), 'WSPROXY_TOKEN_PLUGIN');
  });
  test('--config is found in both spellings, the last one wins, nothing after --', () => {
    assert.equal(configFileFromArgv(['--config', 'a.yaml', '6080']), 'a.yaml');
    assert.equal(configFileFromArgv(['--config=b.json']), 'b.json');
    assert.equal(configFileFromArgv(['--config', 'a', '--config=b']), 'b');
    assert.equal(configFileFromArgv(['6080', '--', 'prog', '--config', 'x']), undefined);
  });
});

describe('config file text', () => {
  test('YAML with scalars, booleans, lists and positionals', () => {
    const v = optionsFromText(
      'cert: /etc/wsproxy/self.pem\nsslOnly: true\nallow-origin:\n  - https://a.example\n  - https://b.example\nlisten: "[::1]:6080"\ntarget: localhost:5900\n',
      'f.yaml',
      kinds,
    );
    assert.deepEqual(v.options, {
      cert: '/etc/wsproxy/self.pem',
      'ssl-only': true,
      'allow-origin': ['https://a.example', 'https://b.example'],
    });
    assert.deepEqual(v.positionals, ['[::1]:6080', 'localhost:5900']);
  });
  test('JSON is read too; numbers become strings; an empty file is no options', () => {
    assert.deepEqual(optionsFromText('{"token-plugin": "TokenFile", "cert": 5}', 'f.json', kinds).options, {
      'token-plugin': 'TokenFile',
      cert: '5',
    });
    assert.deepEqual(optionsFromText('', 'f.yaml', kinds), { options: {}, positionals: undefined });
  });
  test('unknown keys, wrong shapes and syntax errors name the file and key but never a value', () => {
    const cases: [string, RegExp][] = [
      ['bogus: 1', /'bogus' is not a wsproxy option/],
      ['- a\n- b', /expected a mapping/],
      ['cert: [a, b]', /takes one value/],
      ['cert: {x: 1}', /must be a string or a number/],
      ['ssl-only: maybe', /expected true or false/],
      ['key-password: {hunter2: 1}', /must be a string or a number/],
      ['{"cert": [1', /not valid YAML or JSON/],
      ['config: other.yaml', /cannot include another/],
    ];
    for (const [text, pattern] of cases) {
      assert.throws(
        () => optionsFromText(text, 'f.yaml', kinds),
        (err: Error) => {
          assert.ok(err instanceof SourceError);
          assert.match(err.message, pattern);
          assert.match(err.message, /^--config f\.yaml/);
          assert.doesNotMatch(err.message, /hunter2/);
          return true;
        },
      );
    }
  });
});

describe('environment', () => {
  test('WSPROXY_ names of options are read; booleans and lists parsed; other WSPROXY_ names give a notice', () => {
    const v = optionsFromEnv(
      {
        WSPROXY_CERT: 'e.pem',
        WSPROXY_SSL_ONLY: 'yes',
        WSPROXY_ALLOW_ORIGIN: 'https://a.example, https://b.example',
        WSPROXY_CERTT: 'x',
        WSPROXY_DEBUG: '1',
        HOME: '/root',
      },
      kinds,
    );
    assert.deepEqual(v.options, {
      cert: 'e.pem',
      'ssl-only': true,
      'allow-origin': ['https://a.example, https://b.example'],
    });
    assert.equal(v.notices.length, 1);
    assert.match(v.notices[0] ?? '', /WSPROXY_CERTT is not a wsproxy option/);
    assert.throws(
      () => optionsFromEnv({ WSPROXY_SSL_ONLY: 'perhaps' }, kinds),
      /WSPROXY_SSL_ONLY: expected true or false/,
    );
  });
});

describe('precedence through parseCommandLine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsproxy-cfg-'));
  const file = join(dir, 'wsproxy.yaml');
  writeFileSync(
    file,
    'cert: from-file.pem\nkey: file.key\nweb: /from/file\nlisten: "6080"\ntarget: file.example:5900\n',
  );
  const run = (argv: string[], env: Record<string, string> = {}) => {
    const c = parseCommandLine(argv, env);
    assert.equal(c.kind, 'run');
    return c.args;
  };
  test('flags > environment > file > defaults', () => {
    const a = run(['--config', file, '--cert', 'from-flag.pem'], {
      WSPROXY_CERT: 'from-env.pem',
      WSPROXY_KEY: 'env.key',
    });
    assert.equal(a.cert, 'from-flag.pem');
    assert.equal(a.key, 'env.key');
    assert.equal(a.web, '/from/file');
    assert.equal(a.handshakeTimeout, '10');
    assert.deepEqual(a.positionals, ['6080', 'file.example:5900']);
  });
  test('positionals on the command line replace the file ones; WSPROXY_CONFIG names the file', () => {
    const a = run(['7000', 'cli.example:1'], { WSPROXY_CONFIG: file });
    assert.deepEqual(a.positionals, ['7000', 'cli.example:1']);
    assert.equal(a.cert, 'from-file.pem');
  });
  test('a missing config file is a one-line usage error', () => {
    assert.throws(
      () => parseCommandLine(['--config', join(dir, 'nope.yaml')]),
      (err: Error) => err instanceof UsageError && /cannot read it \(ENOENT\)/.test(err.message),
    );
  });
});

describe('list options', () => {
  test('--allow-origin takes one value, so the positionals after it stay positionals', () => {
    const c = parseCommandLine(['--allow-origin', 'https://a.example https://b.example', '6080', 'localhost:5900']);
    assert.equal(c.kind, 'run');
    assert.deepEqual(c.args.positionals, ['6080', 'localhost:5900']);
    assert.deepEqual(c.args.allowOrigin, ['https://a.example https://b.example']);
  });
});
