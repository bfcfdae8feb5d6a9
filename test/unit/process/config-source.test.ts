// The configuration a reload reads (src/process/config-source.ts): each mistake a ReloadError with its stable code.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, ReloadError, UsageError } from '../../../src/errors.js';
import { configOf, configReader, type ParsedCommand } from '../../../src/process/config-source.js';
import { cliArgs } from '../../helpers/config.js';

function reloadErrorOf(parse: () => ParsedCommand): ReloadError {
  try {
    configReader(parse)();
  } catch (err) {
    assert.ok(err instanceof ReloadError, `a ReloadError, not ${String(err)}`);
    return err;
  }
  assert.fail('the reload read a configuration');
}

test('a config-file mistake keeps its kind as the reload code and its message', () => {
  const cases = [
    [new UsageError('--config /x.yaml: cannot read it (ENOENT); check the path', 'unreadable'), 'CONFIG_UNREADABLE'],
    [new UsageError('--config /x.yaml: not valid YAML or JSON (bad)', 'syntax'), 'CONFIG_SYNTAX'],
    [new UsageError('WSPROXY_X is not a wsproxy option', 'invalid'), 'CONFIG_INVALID'],
    [new UsageError('unknown option --bogus'), 'CONFIG_INVALID'],
  ] as const;
  for (const [usage, code] of cases) {
    const err = reloadErrorOf(() => {
      throw usage;
    });
    assert.equal(err.code, code);
    assert.equal(err.message, usage.message);
    assert.equal(err.flag, undefined);
  }
});

test('a command line that no longer serves is refused', () => {
  const err = reloadErrorOf(() => ({ kind: 'help' }));
  assert.equal(err.code, 'CONFIG_INVALID');
  assert.equal(err.message, 'the command line no longer starts a proxy');
});

test('a bad value is CONFIG_INVALID naming its flag', () => {
  const bad = cliArgs({ maxConnections: 'lots' });
  const expected = (() => {
    try {
      configOf(bad);
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err;
    }
    assert.fail('lots is not a number');
  })();
  const err = reloadErrorOf(() => ({ kind: 'run', args: bad }));
  assert.equal(err.code, 'CONFIG_INVALID');
  assert.equal(err.message, expected.message);
  assert.equal(err.flag, '--max-connections');
});

test('anything else is not a reload mistake: rethrown as it is', () => {
  const bug = new TypeError('a bug');
  assert.throws(
    () =>
      configReader(() => {
        throw bug;
      })(),
    (err) => err === bug,
  );
});

test('a good command line gives the configuration the start would', () => {
  const args = cliArgs({ positionals: ['127.0.0.1:0', 'localhost:5900'] });
  assert.deepEqual(configReader(() => ({ kind: 'run', args }))(), configOf(args));
});
