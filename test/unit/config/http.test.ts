import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from '../../../src/config/index.js';
import { cliArgs, configError } from '../../helpers/config.js';

/** A full set of command-line values as cli.ts delivers them (every numeric field a string). */
const args = cliArgs;

describe('--upstream-underscore-headers', () => {
  test('off by default, on with --http-upstream', () => {
    assert.equal(
      resolveConfig(args({ httpUpstream: 'http://127.0.0.1:8080' }), '/srv', {}).upstreamUnderscoreHeaders,
      undefined,
    );
    assert.equal(
      resolveConfig(args({ httpUpstream: 'http://127.0.0.1:8080', upstreamUnderscoreHeaders: true }), '/srv', {})
        .upstreamUnderscoreHeaders,
      true,
    );
  });
  test('without --http-upstream it is a one-line error that says what to add', () => {
    configError(
      () => resolveConfig(args({ upstreamUnderscoreHeaders: true }), '/srv', {}),
      '--upstream-underscore-headers',
      /add --http-upstream/,
    );
  });
});
