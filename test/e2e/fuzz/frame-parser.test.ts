// Differential fuzz (issue #14, item 2): random client frame streams — valid and invalid frames, fragments with
// control frames between them, random masks, lengths around 0/125/126/65535/65536, random max-payload and fragment
// limits — cut at random chunk boundaries and fed both to ws's Receiver (set up as wsproxy's server side) and to the
// cut-through parser. Messages (the parser's slices joined), pings, pongs, the close and the error that ends the
// stream must be the same, in the same order. Seed and replay: see test/helpers/fuzz.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fc, fuzzParams } from '../../helpers/fuzz.js';
import { closePayload, frame, parseChunks, receiverChunks, splitAt, type FrameEvent } from '../../helpers/frames.js';

type Form = 'min' | '16' | '64';

/** xorshift32: payload bytes from a generated seed, so big payloads cost fast-check one number. */
function rng(seed: number): () => number {
  let s = seed | 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

function randomBytes(seed: number, n: number): Buffer {
  const next = rng(seed);
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = next() & 0xff;
  return out;
}

/** At most `n` bytes of valid UTF-8 with characters of every width (no surrogates). */
function utf8Text(seed: number, n: number): Buffer {
  const next = rng(seed);
  const out = Buffer.allocUnsafe(n);
  let i = 0;
  for (;;) {
    const width = [1, 1, 1, 2, 3, 4][next() % 6]!;
    if (i + width > n) break;
    const ranges = [
      [0x00, 0x7f],
      [0x80, 0x7ff],
      [0x800, 0xd7ff],
      [0x10000, 0x10ffff],
    ] as const;
    const [lo, hi] = ranges[width - 1]!;
    i += out.write(String.fromCodePoint(lo + (next() % (hi - lo + 1))), i);
  }
  return out.subarray(0, i);
}

// Ways to break UTF-8: a stray continuation, overlong forms, a surrogate, past U+10FFFF, an invalid lead, a cut
// character.
const BREAKS = [
  [0x80],
  [0xc0, 0x80],
  [0xe0, 0x80, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xff],
  [0xe2, 0x82],
];

// A character cut off by the end of the message: wrong only because nothing follows.
const CUT_ENDS = [[0xc3], [0xe2], [0xe2, 0x82], [0xf0, 0x9f, 0x98]];

function corrupt(text: Buffer, seed: number, how: 'inside' | 'cut-end'): Buffer {
  if (how === 'cut-end') return Buffer.concat([text, Buffer.from(CUT_ENDS[seed & 3]!)]);
  const next = rng(seed);
  const at = next() % (text.length + 1);
  const bad = Buffer.from(BREAKS[next() % BREAKS.length]!);
  return Buffer.concat([text.subarray(0, at), bad, text.subarray(at)]);
}

const lengthArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 300 }) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, 124, 125, 126, 127, 65535, 65536, 65537) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 70_000 }) },
);
const keyArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 9, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) },
);
const formArb = fc.constantFrom<Form>('min', 'min', 'min', 'min', '16', '64');
const seedArb = fc.integer();

const controlArb = fc.record({
  kind: fc.constant('control' as const),
  opcode: fc.constantFrom(9, 10),
  len: fc.oneof(fc.integer({ min: 0, max: 125 }), fc.constantFrom(0, 125)),
  seed: seedArb,
  key: keyArb,
  form: fc.oneof(
    { weight: 15, arbitrary: fc.constant<Form>('min') },
    { weight: 1, arbitrary: fc.constant<Form>('16') },
  ),
});

/** A data message in fragments, control frames between them; text may be broken somewhere. */
const messageArb = fc.record({
  kind: fc.constant('message' as const),
  text: fc.boolean(),
  len: lengthArb,
  seed: seedArb,
  broken: fc.oneof(
    { weight: 10, arbitrary: fc.constant('no' as const) },
    { weight: 1, arbitrary: fc.constantFrom('inside' as const, 'cut-end' as const) },
  ),
  cuts: fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 4 }),
  controls: fc.array(fc.tuple(fc.nat(4), controlArb), { maxLength: 2 }),
  keys: fc.array(keyArb, { minLength: 5, maxLength: 5 }),
  forms: fc.array(formArb, { minLength: 5, maxLength: 5 }),
});

const closeArb = fc.record({
  kind: fc.constant('close' as const),
  variant: fc.constantFrom('empty', 'one', 'code', 'code', 'code'),
  code: fc.oneof(
    fc.constantFrom(1000, 1001, 1003, 1004, 1005, 1006, 1007, 1011, 1014, 1015, 1016, 2999, 3000, 4999, 5000),
    fc.integer({ min: 0, max: 65535 }),
  ),
  reasonLen: fc.integer({ min: 0, max: 123 }),
  broken: fc.boolean(),
  seed: seedArb,
  key: keyArb,
});

/** Any frame header at all (opcode, flags, mask bit), possibly stating a length it does not carry. */
const rawArb = fc.record({
  kind: fc.constant('raw' as const),
  fin: fc.boolean(),
  opcode: fc.integer({ min: 0, max: 15 }),
  rsv: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 7 }) }),
  masked: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  len: fc.integer({ min: 0, max: 200 }),
  stated: fc.option(fc.constantFrom(2n ** 53n - 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, 70_000n, 200_000n), {
    freq: 4,
  }),
  form: formArb,
  seed: seedArb,
  key: keyArb,
});

const garbageArb = fc.record({
  kind: fc.constant('garbage' as const),
  len: fc.integer({ min: 1, max: 20 }),
  seed: seedArb,
});

const itemArb = fc.oneof(
  { weight: 12, arbitrary: messageArb },
  { weight: 4, arbitrary: controlArb },
  { weight: 2, arbitrary: closeArb },
  { weight: 1, arbitrary: rawArb },
  { weight: 1, arbitrary: garbageArb },
);
type Item = typeof itemArb extends fc.Arbitrary<infer T> ? T : never;

function controlBytes(c: Extract<Item, { kind: 'control' }>): Buffer {
  return frame({ opcode: c.opcode, payload: randomBytes(c.seed, c.len), key: c.key, lengthForm: c.form });
}

function messageBytes(m: Extract<Item, { kind: 'message' }>): Buffer {
  let data = m.text ? utf8Text(m.seed, m.len) : randomBytes(m.seed, m.len);
  if (m.text && m.broken !== 'no') data = corrupt(data, m.seed, m.broken);
  const pieces = splitAt(
    data,
    m.cuts.map((c) => Math.floor((c / 1000) * data.length)),
  );
  const out: Buffer[] = [];
  pieces.forEach((payload, i) => {
    const last = i === pieces.length - 1;
    const opcode = i === 0 ? (m.text ? 1 : 2) : 0;
    out.push(frame({ opcode, payload, fin: last, key: m.keys[i % 5]!, lengthForm: m.forms[i % 5]! }));
    for (const [after, c] of m.controls) if (!last && after % pieces.length === i) out.push(controlBytes(c));
  });
  return Buffer.concat(out);
}

function itemBytes(item: Item): Buffer {
  switch (item.kind) {
    case 'message':
      return messageBytes(item);
    case 'control':
      return controlBytes(item);
    case 'close': {
      let reason = utf8Text(item.seed, item.reasonLen);
      if (item.broken) reason = corrupt(reason, item.seed, item.seed & 4 ? 'inside' : 'cut-end').subarray(0, 123);
      const payload =
        item.variant === 'empty'
          ? Buffer.alloc(0)
          : item.variant === 'one'
            ? Buffer.from([item.code >> 8])
            : closePayload(item.code & 0xffff, reason);
      return frame({ opcode: 8, payload, key: item.key });
    }
    case 'raw': {
      const head = frame({
        opcode: item.opcode,
        fin: item.fin,
        rsv: item.rsv,
        payload: randomBytes(item.seed, item.len),
        key: item.masked ? item.key : null,
        lengthForm: item.form,
        ...(item.stated === null ? {} : { statedLength: item.stated }),
      });
      return head;
    }
    case 'garbage':
      return randomBytes(item.seed, item.len);
  }
}

const optionsArb = fc.record({
  maxPayload: fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(0, 100 * 1024 * 1024) },
    { weight: 2, arbitrary: fc.constantFrom(1, 125, 126, 65535, 65536, 70_000) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 200_000 }) },
  ),
  maxFragments: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(0, 16 * 1024) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }) },
  ),
});

/** How the stream is cut: at random offsets, or into small pieces of one size (short streams only). */
const chunkingArb = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.nat(), { maxLength: 12 }).map((offsets) => ({ offsets })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 7 }).map((size) => ({ size })) },
);

function chunksOf(stream: Buffer, chunking: { offsets: number[] } | { size: number }): Buffer[] {
  if ('size' in chunking && stream.length <= 4096) {
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i += chunking.size) out.push(stream.subarray(i, i + chunking.size));
    return out;
  }
  const offsets = 'offsets' in chunking ? chunking.offsets : [];
  return splitAt(
    stream,
    offsets.map((o) => o % Math.max(1, stream.length)),
  );
}

/** A short description of how a stream ended, for the coverage check. */
function ending(events: FrameEvent[]): string {
  const last = events.at(-1);
  return last === undefined ? 'nothing' : last.kind === 'error' ? last.code : last.kind;
}

describe('fuzz: the cut-through frame parser against ws Receiver', () => {
  test('the same messages, control frames, close and error for random streams in random chunks', () => {
    const endings = new Map<string, number>();
    let runs = 0;
    fc.assert(
      fc.property(
        fc.array(itemArb, { minLength: 1, maxLength: 8 }),
        optionsArb,
        chunkingArb,
        (items, options, chunking) => {
          const stream = Buffer.concat(items.map(itemBytes));
          const chunks = chunksOf(stream, chunking);
          const ours = parseChunks(chunks, options);
          const theirs = receiverChunks(chunks, options);
          assert.deepEqual(ours, theirs);
          runs++;
          const end = ending(theirs);
          endings.set(end, (endings.get(end) ?? 0) + 1);
        },
      ),
      fuzzParams(400, 6_000),
    );
    console.log(`frame-parser fuzz: ${runs} streams, endings ${JSON.stringify(Object.fromEntries(endings))}`);
    // The generator reaches what it is for: clean ends, closes and most kinds of fault (checked on full runs only, so
    // a slow machine that stops at the time budget does not fail here).
    if (runs >= 400) {
      for (const kind of [
        'close',
        'message',
        'WS_ERR_INVALID_OPCODE',
        'WS_ERR_INVALID_UTF8',
        'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
      ])
        assert.ok(endings.has(kind), `no stream ended with ${kind}: ${JSON.stringify([...endings])}`);
      assert.ok(endings.size >= 10, `only ${endings.size} kinds of ending: ${JSON.stringify([...endings])}`);
    }
  });
});
