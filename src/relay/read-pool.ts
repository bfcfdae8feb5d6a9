/**
 * Reused buffers for the chunks read from plain targets (issue #14, item 1). A fresh buffer per read made glibc
 * trim and regrow the heap top on every read (thousands of `brk`/`mmap` calls per GiB, and a page fault per fresh
 * page): downloads swung between 150 and 900 MB/s. Chunks now come from free lists by size class, and each goes back
 * only when the relay is done with it (its WebSocket write completed, or it was dropped), so no queued byte is
 * overwritten. Chunks that never come back (a socket destroyed with unread data) are left to the GC.
 */

/** Below this a chunk is a plain small allocation: Node's slab or malloc's small bins, which do not trim the heap. */
export const MIN_POOLED_BYTES = 16 * 1024;
/** Free bytes the process-wide pool keeps at most; past that, returned chunks are dropped (idle memory stays flat). */
export const TARGET_POOL_FREE_BYTES = 8 * 1024 * 1024;

/** The size class of an `n`-byte chunk: the next power of two, so a chunk pins at most twice its bytes. */
function classOf(n: number): number {
  return 2 ** Math.ceil(Math.log2(n));
}

/** Free lists of buffers by size class, bounded in free bytes. */
export class ReadPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  // Buffers handed out and not yet returned: a second release, or a chunk the pool never made, is ignored.
  private readonly lent = new WeakSet<ArrayBuffer>();
  private freeBytes = 0;

  constructor(private readonly maxFreeBytes: number) {}

  /** A chunk of exactly `n` bytes (contents undefined) for the caller to fill; give it back with {@link release}. */
  take(n: number): Buffer {
    if (n < MIN_POOLED_BYTES) return Buffer.allocUnsafe(n);
    const size = classOf(n);
    let block = this.free.get(size)?.pop();
    if (block === undefined) block = Buffer.allocUnsafeSlow(size).buffer;
    else this.freeBytes -= size;
    this.lent.add(block);
    return Buffer.from(block, 0, n);
  }

  /** Returns the buffer under `chunk` (from {@link take}) once nothing will read it again. Anything else is ignored. */
  release(chunk: Uint8Array): void {
    const block = chunk.buffer as ArrayBuffer;
    if (!this.lent.delete(block)) return;
    const size = block.byteLength;
    if (this.freeBytes + size > this.maxFreeBytes) return;
    let list = this.free.get(size);
    if (list === undefined) this.free.set(size, (list = []));
    list.push(block);
    this.freeBytes += size;
  }

  /** Bytes held in free lists. */
  get idleBytes(): number {
    return this.freeBytes;
  }
}

/** The pool of target reads: `relay/connect.ts` fills chunks from it, `relay/relay.ts` returns them. */
export const targetReadPool = new ReadPool(TARGET_POOL_FREE_BYTES);
