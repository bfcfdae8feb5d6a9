// The pool of target read chunks: reuse only after release, never a chunk still in flight, bounded free memory.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MIN_POOLED_BYTES, ReadPool } from '../../../src/relay/read-pool.js';

const KiB = 1024;

describe('ReadPool', () => {
  test('hands out chunks of exactly the asked length', () => {
    const pool = new ReadPool(1 << 20);
    for (const n of [1, MIN_POOLED_BYTES - 1, MIN_POOLED_BYTES, 40 * KiB, 64 * KiB, 1 << 20]) {
      assert.equal(pool.take(n).length, n);
    }
  });

  test('reuses a buffer only after it was released', () => {
    const pool = new ReadPool(1 << 20);
    const a = pool.take(64 * KiB);
    const b = pool.take(64 * KiB);
    assert.notEqual(a.buffer, b.buffer, 'two chunks in flight never share memory');
    pool.release(a);
    const c = pool.take(50 * KiB); // same size class (64 KiB)
    assert.equal(c.buffer, a.buffer, 'the released buffer is reused');
    assert.notEqual(c.buffer, b.buffer);
  });

  test('never hands out a buffer still in flight, whatever the order of takes and releases', () => {
    const pool = new ReadPool(1 << 20);
    const inFlight = new Set<ArrayBufferLike>();
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const held: Buffer[] = [];
    for (let i = 0; i < 2000; i++) {
      if (held.length > 0 && random() < 0.5) {
        const chunk = held.splice(Math.floor(random() * held.length), 1)[0]!;
        inFlight.delete(chunk.buffer);
        pool.release(chunk);
        if (random() < 0.2) pool.release(chunk); // a second release must change nothing
      } else {
        const chunk = pool.take(MIN_POOLED_BYTES + Math.floor(random() * 200 * KiB));
        assert.ok(!inFlight.has(chunk.buffer), `take ${i} handed out a buffer still in flight`);
        inFlight.add(chunk.buffer);
        held.push(chunk);
      }
    }
  });

  test('ignores chunks it did not make and small chunks (plain allocations)', () => {
    const pool = new ReadPool(1 << 20);
    pool.release(Buffer.alloc(64 * KiB));
    const small = pool.take(MIN_POOLED_BYTES - 1);
    pool.release(small);
    assert.equal(pool.idleBytes, 0);
  });

  test('keeps at most its cap of free bytes', () => {
    const pool = new ReadPool(256 * KiB);
    const chunks = Array.from({ length: 10 }, () => pool.take(64 * KiB));
    for (const c of chunks) pool.release(c);
    assert.equal(pool.idleBytes, 256 * KiB);
    const again = Array.from({ length: 10 }, () => pool.take(64 * KiB));
    assert.equal(pool.idleBytes, 0);
    assert.equal(new Set(again.map((c) => c.buffer)).size, 10, 'each chunk has its own buffer');
  });

  test('a chunk pins at most twice its bytes (power-of-two size classes)', () => {
    const pool = new ReadPool(1 << 20);
    for (const n of [MIN_POOLED_BYTES, 17 * KiB, 64 * KiB + 1, 1000 * KiB]) {
      const size = pool.take(n).buffer.byteLength;
      assert.ok(size >= n && size < 2 * n, `${n} bytes in a ${size}-byte buffer`);
    }
  });
});
