import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CliArgs } from '../../../src/config/args.js';
import { flag } from '../../../src/config/flag.js';
import { cliArgs } from '../../helpers/config.js';

describe('flag', () => {
  test('two dashes and the key in kebab case', () => {
    assert.equal(flag('targetCa'), '--target-ca');
    assert.equal(flag('cert'), '--cert');
    assert.equal(flag('maxConnectionsPerIp'), '--max-connections-per-ip');
    assert.equal(flag('tls13Ciphers'), '--tls13-ciphers');
    assert.equal(flag('allowPlainWithVerifyClient'), '--allow-plain-with-verify-client');
  });
  test('yargs camel-cases every flag back to its key', () => {
    const camel = (text: string): string => text.slice(2).replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    for (const key of Object.keys(cliArgs()) as (keyof CliArgs)[]) {
      assert.match(flag(key), /^--[a-z][a-z0-9]*(-[a-z][a-z0-9]*)*$/, key);
      assert.equal(camel(flag(key)), key);
    }
  });
});
