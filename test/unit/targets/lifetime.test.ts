// Token-source lifetime: a replaced source closes once its last handshake or session lets go, never before.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ResolverHolds } from '../../../src/targets/lifetime.js';
import type { TargetResolver } from '../../../src/targets/types.js';
import { captureLogger } from '../../helpers/proxy.js';

function source(name: string) {
  let closed = 0;
  const r: TargetResolver = {
    name,
    resolve: () => Promise.resolve({ kind: 'unknown' }),
    close: () => {
      closed++;
      return Promise.resolve();
    },
  };
  return { r, closed: () => closed };
}

describe('resolver holds', () => {
  test('a replaced source nobody uses closes at once', () => {
    const holds = new ResolverHolds(captureLogger().logger);
    const a = source('a');
    holds.retire(a.r);
    assert.equal(a.closed(), 1);
  });

  test('a replaced source in use closes when its last user lets go; a second release changes nothing', () => {
    const holds = new ResolverHolds(captureLogger().logger);
    const a = source('a');
    const first = holds.hold(a.r);
    const second = holds.hold(a.r);
    holds.retire(a.r);
    first();
    first();
    assert.equal(a.closed(), 0);
    second();
    assert.equal(a.closed(), 1);
  });

  test('a source still in use is not closed unless it was replaced; closeRetired closes the waiting ones', () => {
    const holds = new ResolverHolds(captureLogger().logger);
    const running = source('running');
    const old = source('old');
    holds.hold(running.r)();
    holds.hold(old.r);
    holds.retire(old.r);
    holds.closeRetired();
    assert.equal(running.closed(), 0);
    assert.equal(old.closed(), 1);
  });
});
