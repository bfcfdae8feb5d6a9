/**
 * Client frame streams for the frame parser's tests: a frame builder (any mask key, length encoding, flags), a sink that
 * records what the parser reports, and the same record taken from ws's own Receiver configured as wsproxy's server
 * side, for the differential tests.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FrameParser, type FrameParserOptions, type FrameSink } from '../../src/websocket/frame-parser.js';
import type { FrameError } from '../../src/websocket/frame-error.js';

/** One thing a stream delivered, in order. Messages are whole (the parser's slices joined). */
export type FrameEvent =
  | { readonly kind: 'message'; readonly text: boolean; readonly data: Buffer }
  | { readonly kind: 'ping' | 'pong'; readonly data: Buffer }
  | { readonly kind: 'close'; readonly code: number; readonly reason: Buffer }
  | { readonly kind: 'error'; readonly code: string; readonly closeCode: number; readonly message: string };

export interface FrameSpec {
  readonly opcode: number;
  readonly payload?: Buffer;
  readonly fin?: boolean;
  /** RSV1–3 as bits 0b100, 0b010, 0b001. */
  readonly rsv?: number;
  /** The masking key; `null` sends the frame unmasked. Default 0x37fa213d. */
  readonly key?: number | null;
  /** How the length is written: the shortest form (default), or the 16- (when it fits) or 64-bit form. */
  readonly lengthForm?: 'min' | '16' | '64';
  /** A length to state instead of the payload's own (the frame then lies). */
  readonly statedLength?: bigint;
}

/** The bytes of one client frame (RFC 6455 §5.2), masked unless `key` is null. */
export function frame(spec: FrameSpec): Buffer {
  const payload = spec.payload ?? Buffer.alloc(0);
  const len = spec.statedLength ?? BigInt(payload.length);
  const form = spec.lengthForm ?? 'min';
  const b0 = (spec.fin === false ? 0 : 0x80) | ((spec.rsv ?? 0) << 4) | (spec.opcode & 0x0f);
  const m = spec.key === null ? 0 : 0x80;
  let head: Buffer;
  if (form === '64' || len > 0xffffn) {
    head = Buffer.alloc(10);
    head[1] = m | 127;
    head.writeBigUInt64BE(len, 2);
  } else if (form === '16' || len > 125n) {
    head = Buffer.alloc(4);
    head[1] = m | 126;
    head.writeUInt16BE(Number(len), 2);
  } else {
    head = Buffer.alloc(2);
    head[1] = m | Number(len);
  }
  head[0] = b0;
  if (spec.key === null) return Buffer.concat([head, payload]);
  const key = Buffer.alloc(4);
  key.writeUInt32BE((spec.key ?? 0x37fa213d) >>> 0);
  return Buffer.concat([head, key, Buffer.from(payload.map((x, i) => x ^ key[i & 3]!))]);
}

/** A close frame's payload: the code, then the reason. */
export function closePayload(code: number, reason: Buffer | string = ''): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code);
  return Buffer.concat([head, Buffer.from(reason)]);
}

/** Records what the parser reports, checking the sink's contract as it goes (starts and ends pair up, no empty slice). */
export class RecordingSink implements FrameSink {
  readonly events: FrameEvent[] = [];
  /** Every data slice as handed over (not copied), for the in-place checks. */
  readonly slices: Buffer[] = [];
  private parts: Buffer[] | undefined;
  private text = false;

  onMessageStart(text: boolean): void {
    assert.equal(this.parts, undefined, 'a message started inside another');
    this.parts = [];
    this.text = text;
  }
  onData(slice: Buffer): void {
    assert.ok(this.parts !== undefined, 'data outside a message');
    assert.ok(slice.length > 0, 'an empty slice');
    this.slices.push(slice);
    this.parts.push(Buffer.from(slice));
  }
  onMessageEnd(text: boolean): void {
    assert.ok(this.parts !== undefined, 'a message ended that had not started');
    assert.equal(text, this.text, 'the message changed type');
    this.events.push({ kind: 'message', text, data: Buffer.concat(this.parts) });
    this.parts = undefined;
  }
  onPing(payload: Buffer): void {
    this.events.push({ kind: 'ping', data: Buffer.from(payload) });
  }
  onPong(payload: Buffer): void {
    this.events.push({ kind: 'pong', data: Buffer.from(payload) });
  }
  onClose(code: number, reason: Buffer): void {
    this.events.push({ kind: 'close', code, reason: Buffer.from(reason) });
  }
  onError(error: FrameError): void {
    this.events.push({ kind: 'error', code: error.code, closeCode: error.closeCode, message: error.message });
  }
}

/** Feeds `chunks` to a new parser (each chunk copied first: the parser unmasks in place); what it reported. */
export function parseChunks(chunks: readonly Buffer[], options: FrameParserOptions): FrameEvent[] {
  const sink = new RecordingSink();
  const parser = new FrameParser(sink, options);
  for (const c of chunks) if (!parser.push(Buffer.from(c))) break;
  return sink.events;
}

/** Cuts `data` into pieces at the given offsets (sorted, deduplicated, inside the data). */
export function splitAt(data: Buffer, offsets: readonly number[]): Buffer[] {
  const cuts = [...new Set(offsets)].filter((o) => o > 0 && o < data.length).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of [...cuts, data.length]) {
    out.push(data.subarray(from, c));
    from = c;
  }
  return out;
}

// ws's Receiver is not in the package's exports map: load it by path, as ws's own wrapper does.
interface WsReceiver {
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): void;
  on(event: 'ping' | 'pong', listener: (data: Buffer) => void): void;
  on(event: 'conclude', listener: (code: number, reason: Buffer) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  write(chunk: Buffer): boolean;
  readonly errored: (Error & { code?: string }) | null;
  readonly writableEnded: boolean;
}
type ReceiverClass = new (options: {
  isServer: boolean;
  maxPayload: number;
  maxFragments: number;
  maxBufferedChunks: number;
  binaryType: 'nodebuffer';
  extensions: object;
  allowSynchronousEvents: boolean;
  skipUTF8Validation: boolean;
}) => WsReceiver;
const requireHere = createRequire(import.meta.url);
const wsLib = join(dirname(requireHere.resolve('ws/package.json')), 'lib');
const Receiver = requireHere(join(wsLib, 'receiver.js')) as ReceiverClass;
const { kStatusCode } = requireHere(join(wsLib, 'constants.js')) as { kStatusCode: symbol };

/**
 * Feeds `chunks` (copied) to ws's Receiver set up as wsproxy's WebSocketServer sets it up (server side, no
 * extensions, `maxPayload`, ws's server defaults otherwise, `maxFragments` as given) and records its events the same
 * way. Events and the error are synchronous in ws (allowSynchronousEvents); a write after its end is not made.
 */
export function receiverChunks(chunks: readonly Buffer[], options: FrameParserOptions): FrameEvent[] {
  const events: FrameEvent[] = [];
  const r = new Receiver({
    isServer: true,
    maxPayload: options.maxPayload,
    maxFragments: options.maxFragments ?? 0,
    maxBufferedChunks: 256 * 1024,
    binaryType: 'nodebuffer',
    extensions: {},
    allowSynchronousEvents: true,
    skipUTF8Validation: false,
  });
  r.on('message', (data, isBinary) => events.push({ kind: 'message', text: !isBinary, data: Buffer.from(data) }));
  r.on('ping', (data) => events.push({ kind: 'ping', data: Buffer.from(data) }));
  r.on('pong', (data) => events.push({ kind: 'pong', data: Buffer.from(data) }));
  r.on('conclude', (code, reason) => events.push({ kind: 'close', code, reason: Buffer.from(reason) }));
  r.on('error', () => {}); // read from `errored` below; the event itself comes a tick later
  for (const c of chunks) {
    if (r.errored !== null || r.writableEnded) break;
    r.write(Buffer.from(c));
  }
  const err = r.errored;
  if (err !== null) {
    const closeCode = (err as unknown as Record<symbol, number>)[kStatusCode] ?? -1;
    events.push({ kind: 'error', code: err.code ?? '', closeCode, message: err.message });
  }
  return events;
}
