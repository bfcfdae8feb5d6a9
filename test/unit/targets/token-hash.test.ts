// The keyed token hash (issue #12).
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { tokenHashWith } from '../../../src/targets/token-hash.js';

describe('token_hash', () => {
  test('keyed: stable under one key, different under another, never the bare SHA-256 prefix', () => {
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), (token) => {
        const h = tokenHashWith(k1, token);
        return (
          /^[0-9a-f]{12}$/.test(h) &&
          h === tokenHashWith(Buffer.from(k1), token) &&
          h !== tokenHashWith(k2, token) &&
          h !== createHash('sha256').update(token).digest('hex').slice(0, 12)
        );
      }),
      { seed: 12_14, numRuns: 200 },
    );
  });
});
