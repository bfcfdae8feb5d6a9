/**
 * Micro-bench of the client→server receive path: ws's Receiver (what wsproxy uses today, server side, bufferutil when
 * installed) against the cut-through frame parser (src/websocket/frame-parser.ts), on masked binary messages of 1 KiB,
 * 64 KiB and 1 MiB arriving in 64 KiB chunks. Each side only counts the payload bytes it is handed. Five runs per row
 * in alternating order; prints the median MB/s with min–max and the ratio parser/ws of the medians.
 *
 *   npm run build && node dist/bench/frame-parser.js [--mib 64] [--runs 5]
 *
 * The figures compare the two within one run on one machine; they never go into tests.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FrameParser, type FrameSink } from '../src/websocket/frame-parser.js';
import type { FrameError } from '../src/websocket/frame-error.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1] ?? fallback) : fallback;
}
const TOTAL = option('mib', 64) * 1024 * 1024;
const RUNS = option('runs', 5);
const CHUNK = 64 * 1024;

/** Masked binary frames of `size` bytes, `total` bytes of payload in all, cut into CHUNK-byte chunks. */
function stream(size: number, total: number): Buffer[] {
  const payload = Buffer.alloc(size, 0xab);
  const head = Buffer.alloc(size > 0xffff ? 14 : size > 125 ? 8 : 6);
  head[0] = 0x82;
  if (size > 0xffff) {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(size), 2);
  } else if (size > 125) {
    head[1] = 0x80 | 126;
    head.writeUInt16BE(size, 2);
  } else head[1] = 0x80 | size;
  head.writeUInt32BE(0x12345678, head.length - 4);
  const all = Buffer.concat(
    Array.from({ length: Math.max(1, Math.floor(total / size)) }, () => [head, payload]).flat(),
  );
  const chunks: Buffer[] = [];
  for (let i = 0; i < all.length; i += CHUNK) chunks.push(all.subarray(i, i + CHUNK));
  return chunks;
}

class CountingSink implements FrameSink {
  bytes = 0;
  messages = 0;
  onMessageStart(): void {}
  onData(slice: Buffer): void {
    this.bytes += slice.length;
  }
  onMessageEnd(): void {
    this.messages++;
  }
  onPing(): void {}
  onPong(): void {}
  onClose(): void {}
  onError(error: FrameError): void {
    throw new Error(error.message);
  }
}

interface WsReceiver {
  on(event: 'message', listener: (data: Buffer) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  write(chunk: Buffer): boolean;
}
const requireHere = createRequire(import.meta.url);
const Receiver = requireHere(join(dirname(requireHere.resolve('ws/package.json')), 'lib', 'receiver.js')) as new (
  options: object,
) => WsReceiver;

/** Fresh copies of the chunks: both sides unmask in place, and copying is not what is measured. */
const fresh = (chunks: readonly Buffer[]): Buffer[] => chunks.map((c) => Buffer.from(c));

function timeParser(chunks: Buffer[]): number {
  const sink = new CountingSink();
  const parser = new FrameParser(sink, { maxPayload: 100 * 1024 * 1024 });
  const start = process.hrtime.bigint();
  for (const c of chunks) parser.push(c);
  const ns = Number(process.hrtime.bigint() - start);
  return sink.bytes / 1e6 / (ns / 1e9);
}

function timeWs(chunks: Buffer[]): number {
  const r = new Receiver({ isServer: true, maxPayload: 100 * 1024 * 1024, binaryType: 'nodebuffer', extensions: {} });
  let bytes = 0;
  r.on('message', (data) => (bytes += data.length));
  r.on('error', (err) => {
    throw err;
  });
  const start = process.hrtime.bigint();
  for (const c of chunks) r.write(c);
  const ns = Number(process.hrtime.bigint() - start);
  return bytes / 1e6 / (ns / 1e9);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]): string =>
  `${median(xs).toFixed(0).padStart(6)} MB/s [${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}]`;

console.log(`frame parser bench: ${TOTAL / 1024 / 1024} MiB per run in ${CHUNK / 1024} KiB chunks, ${RUNS} runs`);
for (const [label, size] of [
  ['1 KiB', 1024],
  ['64 KiB', 64 * 1024],
  ['1 MiB', 1024 * 1024],
] as const) {
  const chunks = stream(size, TOTAL);
  const ws: number[] = [];
  const ours: number[] = [];
  timeWs(fresh(chunks)); // warm-up of both
  timeParser(fresh(chunks));
  for (let run = 0; run < RUNS; run++) {
    // Alternate which goes first, so drift on a busy machine does not favour one side.
    if (run % 2 === 0) {
      ws.push(timeWs(fresh(chunks)));
      ours.push(timeParser(fresh(chunks)));
    } else {
      ours.push(timeParser(fresh(chunks)));
      ws.push(timeWs(fresh(chunks)));
    }
  }
  console.log(
    `${label.padEnd(7)} ws Receiver ${fmt(ws)}   parser ${fmt(ours)}   parser/ws ${(median(ours) / median(ws)).toFixed(2)}×`,
  );
}
