import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FrameParser, type FrameParserOptions } from '../../../src/websocket/frame-parser.js';
import {
  closePayload,
  frame,
  parseChunks,
  receiverChunks,
  RecordingSink,
  splitAt,
  type FrameEvent,
  type FrameSpec,
} from '../../helpers/frames.js';

const OPTIONS: FrameParserOptions = { maxPayload: 1 << 20 };
const bin = (s: string): Buffer => Buffer.from(s);
const stream = (...specs: FrameSpec[]): Buffer => Buffer.concat(specs.map(frame));

/** What the parser reports for `bytes` in one chunk, checked against ws's Receiver for the same bytes. */
function parsed(bytes: Buffer, options: FrameParserOptions = OPTIONS): FrameEvent[] {
  const ours = parseChunks([bytes], options);
  assert.deepEqual(ours, receiverChunks([bytes], options), 'ws reports these bytes differently');
  return ours;
}

/** The one error the bytes end with, checked against ws. */
function errorOf(bytes: Buffer, options: FrameParserOptions = OPTIONS): Extract<FrameEvent, { kind: 'error' }> {
  const events = parsed(bytes, options);
  const last = events.at(-1);
  assert.ok(last?.kind === 'error', `no error: ${JSON.stringify(events)}`);
  return last;
}

const message = (data: Buffer | string, text = false): FrameEvent => ({
  kind: 'message',
  text,
  data: Buffer.from(data),
});
const protocolError = (code: string, detail: string): FrameEvent => ({
  kind: 'error',
  code,
  closeCode: 1002,
  message: `Invalid WebSocket frame: ${detail}`,
});

describe('FrameParser: data', () => {
  test('a binary frame is one message, unmasked', () => {
    assert.deepEqual(parsed(frame({ opcode: 2, payload: bin('hello'), key: 0x01020304 })), [message('hello')]);
  });

  test('payload is unmasked in place: the slice is a view of the pushed chunk, which now holds plain bytes', () => {
    const chunk = stream({ opcode: 2, payload: bin('in place, please'), key: 0xdeadbeef });
    const sink = new RecordingSink();
    new FrameParser(sink, OPTIONS).push(chunk);
    const [slice] = sink.slices;
    assert.ok(slice !== undefined);
    assert.equal(slice.buffer, chunk.buffer);
    assert.equal(slice.byteOffset, chunk.byteOffset + 6);
    assert.equal(chunk.subarray(6).toString(), 'in place, please');
  });

  test('a chunk that is all payload is handed on as it is, not as a new view', () => {
    const payload = Buffer.alloc(3000, 7);
    const bytes = frame({ opcode: 2, payload });
    const sink = new RecordingSink();
    const parser = new FrameParser(sink, OPTIONS);
    parser.push(bytes.subarray(0, 1000));
    const middle = Buffer.from(bytes.subarray(1000, 2000));
    parser.push(middle);
    assert.equal(sink.slices[1], middle);
  });

  test('a large frame goes on slice by slice as its chunks arrive, without waiting for its end', () => {
    const payload = Buffer.alloc(200_000, 0x5a);
    const bytes = frame({ opcode: 2, payload });
    const sink = new RecordingSink();
    const parser = new FrameParser(sink, OPTIONS);
    const chunks = splitAt(bytes, [65_536, 131_072]); // the first holds the 14-byte header
    parser.push(Buffer.from(chunks[0]!));
    parser.push(Buffer.from(chunks[1]!));
    assert.equal(sink.slices.length, 2);
    assert.equal(sink.events.length, 0, 'the message ended early');
    parser.push(Buffer.from(chunks[2]!));
    assert.deepEqual(sink.events, [message(payload)]);
    assert.deepEqual(
      sink.slices.map((s) => s.length),
      [65_536 - 14, 65_536, bytes.length - 131_072],
    );
  });

  test('a fragmented message is one message, with control frames between its fragments delivered at once', () => {
    const bytes = stream(
      { opcode: 2, payload: bin('frag'), fin: false },
      { opcode: 9, payload: bin('ping') },
      { opcode: 0, payload: bin(''), fin: false },
      { opcode: 10, payload: bin('pong') },
      { opcode: 0, payload: bin('ments') },
    );
    assert.deepEqual(parsed(bytes), [
      { kind: 'ping', data: bin('ping') },
      { kind: 'pong', data: bin('pong') },
      message('fragments'),
    ]);
  });

  test('empty messages and frames: a start and an end, no empty slice', () => {
    const bytes = stream({ opcode: 2 }, { opcode: 1, fin: false }, { opcode: 0 });
    assert.deepEqual(parsed(bytes), [message(''), message('', true)]);
  });

  test('lengths in the 16- and 64-bit forms, also where a shorter form would do', () => {
    const big = Buffer.alloc(70_000, 1);
    const bytes = stream(
      { opcode: 2, payload: bin('a'), lengthForm: '16' },
      { opcode: 2, payload: bin('b'), lengthForm: '64' },
      { opcode: 2, payload: Buffer.alloc(126, 2) },
      { opcode: 2, payload: big },
    );
    assert.deepEqual(parsed(bytes), [message('a'), message('b'), message(Buffer.alloc(126, 2)), message(big)]);
  });

  test('an all-zero masking key leaves the payload as it is', () => {
    assert.deepEqual(parsed(frame({ opcode: 2, payload: bin('zero key'), key: 0 })), [message('zero key')]);
  });
});

describe('FrameParser: text', () => {
  test('text is flagged at the start and the end of its message', () => {
    class Starts extends RecordingSink {
      readonly starts: boolean[] = [];
      override onMessageStart(text: boolean): void {
        this.starts.push(text);
        super.onMessageStart(text);
      }
    }
    const sink = new Starts();
    new FrameParser(sink, OPTIONS).push(stream({ opcode: 1, payload: bin('héllo') }, { opcode: 2, payload: bin('x') }));
    assert.deepEqual(sink.starts, [true, false]);
    assert.deepEqual(sink.events, [message('héllo', true), message('x')]);
  });

  test('a character split across fragments and chunks is valid', () => {
    const euro = bin('€'); // e2 82 ac
    const bytes = stream(
      { opcode: 1, payload: euro.subarray(0, 1), fin: false },
      { opcode: 0, payload: euro.subarray(1, 2), fin: false },
      { opcode: 0, payload: Buffer.concat([euro.subarray(2), bin('!')]) },
    );
    for (let cut = 1; cut < bytes.length; cut++) {
      assert.deepEqual(parseChunks(splitAt(bytes, [cut]), OPTIONS), [message('€!', true)], `cut at ${cut}`);
    }
  });

  test('invalid UTF-8 is failed with 1007 at the end of its message, as ws does; control frames before that arrive', () => {
    const bytes = stream(
      { opcode: 1, payload: Buffer.from([0x61, 0xc0, 0x80]), fin: false },
      { opcode: 9, payload: bin('still here') },
      { opcode: 0, payload: bin('b') },
    );
    assert.deepEqual(parsed(bytes), [
      { kind: 'ping', data: bin('still here') },
      {
        kind: 'error',
        code: 'WS_ERR_INVALID_UTF8',
        closeCode: 1007,
        message: 'Invalid WebSocket frame: invalid UTF-8 sequence',
      },
    ]);
  });

  test('no byte of an invalid text message goes on after the piece that breaks it', () => {
    const valid = Buffer.alloc(40, 0x61);
    const bytes = stream(
      { opcode: 1, payload: valid, fin: false },
      { opcode: 0, payload: Buffer.concat([bin('ok'), Buffer.from([0xff]), bin('more')]), fin: false },
      { opcode: 0, payload: bin('tail') },
    );
    const sink = new RecordingSink();
    new FrameParser(sink, OPTIONS).push(bytes);
    assert.deepEqual(sink.slices.map(String), [valid.toString()]);
    assert.equal(sink.events.at(-1)?.kind, 'error');
  });

  test('a text message ending inside a character is invalid', () => {
    assert.equal(errorOf(frame({ opcode: 1, payload: Buffer.from([0x61, 0xe2, 0x82]) })).closeCode, 1007);
  });

  test('overlong forms, surrogates and code points past U+10FFFF are invalid, as in ws', () => {
    for (const bad of [[0xc1, 0xbf], [0xe0, 0x9f, 0xbf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf8]]) {
      assert.equal(errorOf(frame({ opcode: 1, payload: Buffer.from(bad) })).closeCode, 1007, bad.join(','));
    }
  });
});

describe('FrameParser: control frames', () => {
  test('ping and pong payloads, empty and 125 bytes', () => {
    const full = Buffer.alloc(125, 0x33);
    const bytes = stream({ opcode: 9 }, { opcode: 10, payload: full });
    assert.deepEqual(parsed(bytes), [
      { kind: 'ping', data: Buffer.alloc(0) },
      { kind: 'pong', data: full },
    ]);
  });

  test('a control payload cut by chunk boundaries is put together (at most 125 bytes held)', () => {
    const payload = Buffer.alloc(125, 0x44);
    const bytes = frame({ opcode: 9, payload });
    for (const cuts of [[3], [6], [7, 50], [100, 120, 130]]) {
      assert.deepEqual(parseChunks(splitAt(bytes, cuts), OPTIONS), [{ kind: 'ping', data: payload }], cuts.join(','));
    }
  });

  test('close: code and reason; no payload is 1005; the parser stops there', () => {
    const sink = new RecordingSink();
    const parser = new FrameParser(sink, OPTIONS);
    const more = frame({ opcode: 2, payload: bin('after close') });
    assert.equal(parser.push(Buffer.concat([frame({ opcode: 8, payload: closePayload(4000, 'bye') }), more])), false);
    assert.equal(parser.active, false);
    assert.equal(parser.push(Buffer.from(more)), false);
    assert.deepEqual(sink.events, [{ kind: 'close', code: 4000, reason: bin('bye') }]);
    assert.deepEqual(parsed(frame({ opcode: 8 })), [{ kind: 'close', code: 1005, reason: Buffer.alloc(0) }]);
  });

  test('a close inside a fragmented message ends the stream (the message never completes)', () => {
    const bytes = stream(
      { opcode: 2, payload: bin('half'), fin: false },
      { opcode: 8, payload: closePayload(1000) },
      { opcode: 0, payload: bin('never') },
    );
    assert.deepEqual(parsed(bytes), [{ kind: 'close', code: 1000, reason: Buffer.alloc(0) }]);
  });

  test('close codes a peer may not send are 1002; a reason that is not UTF-8 is 1007', () => {
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]) {
      assert.deepEqual(
        errorOf(frame({ opcode: 8, payload: closePayload(code) })),
        protocolError('WS_ERR_INVALID_CLOSE_CODE', `invalid status code ${code}`),
      );
    }
    for (const code of [1000, 1003, 1007, 1014, 3000, 4999]) {
      assert.deepEqual(parsed(frame({ opcode: 8, payload: closePayload(code) })), [
        { kind: 'close', code, reason: Buffer.alloc(0) },
      ]);
    }
    const badReason = Buffer.concat([closePayload(1000), Buffer.from([0xce])]);
    assert.equal(errorOf(frame({ opcode: 8, payload: badReason })).closeCode, 1007);
  });
});

describe('FrameParser: protocol errors, each as ws reports it', () => {
  const cases: [string, Buffer, FrameEvent][] = [
    [
      'unmasked frame',
      frame({ opcode: 2, payload: bin('x'), key: null }),
      protocolError('WS_ERR_EXPECTED_MASK', 'MASK must be set'),
    ],
    ['RSV1', frame({ opcode: 2, rsv: 0b100 }), protocolError('WS_ERR_UNEXPECTED_RSV_1', 'RSV1 must be clear')],
    [
      'RSV2',
      frame({ opcode: 2, rsv: 0b010 }),
      protocolError('WS_ERR_UNEXPECTED_RSV_2_3', 'RSV2 and RSV3 must be clear'),
    ],
    [
      'RSV3',
      frame({ opcode: 9, rsv: 0b001 }),
      protocolError('WS_ERR_UNEXPECTED_RSV_2_3', 'RSV2 and RSV3 must be clear'),
    ],
    ['opcode 3', frame({ opcode: 3 }), protocolError('WS_ERR_INVALID_OPCODE', 'invalid opcode 3')],
    ['opcode 11', frame({ opcode: 11 }), protocolError('WS_ERR_INVALID_OPCODE', 'invalid opcode 11')],
    ['fragmented ping', frame({ opcode: 9, fin: false }), protocolError('WS_ERR_EXPECTED_FIN', 'FIN must be set')],
    [
      'ping of 126 bytes',
      frame({ opcode: 9, payload: Buffer.alloc(126) }),
      protocolError('WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 'invalid payload length 126'),
    ],
    [
      'close of 1 byte',
      frame({ opcode: 8, payload: Buffer.from([3]) }),
      protocolError('WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 'invalid payload length 1'),
    ],
    [
      'continuation without a message',
      frame({ opcode: 0, payload: bin('x') }),
      protocolError('WS_ERR_INVALID_OPCODE', 'invalid opcode 0'),
    ],
    [
      'a new data frame inside a fragmented message',
      stream({ opcode: 2, payload: bin('a'), fin: false }, { opcode: 1, payload: bin('b') }),
      protocolError('WS_ERR_INVALID_OPCODE', 'invalid opcode 1'),
    ],
    [
      '64-bit length over 2^53 - 1',
      frame({ opcode: 2, statedLength: 2n ** 63n }),
      {
        kind: 'error',
        code: 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
        closeCode: 1009,
        message: 'Unsupported WebSocket frame: payload length > 2^53 - 1',
      },
    ],
  ];
  for (const [name, bytes, expected] of cases) {
    test(name, () => assert.deepEqual(errorOf(bytes), expected));
  }

  test('a header fault is reported once the first two bytes are in, before the rest of the header', () => {
    const sink = new RecordingSink();
    new FrameParser(sink, OPTIONS).push(frame({ opcode: 2, payload: bin('x'), key: null }).subarray(0, 2));
    assert.equal(sink.events.at(-1)?.kind, 'error');
  });

  test('after a fault the parser stops: the rest of the chunk and later chunks are ignored', () => {
    const sink = new RecordingSink();
    const parser = new FrameParser(sink, OPTIONS);
    const good = frame({ opcode: 2, payload: bin('late') });
    assert.equal(parser.push(Buffer.concat([frame({ opcode: 3 }), good])), false);
    assert.equal(parser.push(Buffer.from(good)), false);
    assert.deepEqual(
      sink.events.map((e) => e.kind),
      ['error'],
    );
  });

  test('2^53 - 1 is a length a frame may state (no fault without a size limit; it waits for the payload)', () => {
    assert.deepEqual(parsed(frame({ opcode: 2, statedLength: 2n ** 53n - 1n }), { maxPayload: 0 }), []);
  });
});

describe('FrameParser: limits', () => {
  const tooBig: FrameEvent = {
    kind: 'error',
    code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
    closeCode: 1009,
    message: 'Max payload size exceeded',
  };

  test('max payload counts the message, fragments summed: exactly the limit passes, one byte more is 1009', () => {
    const at = stream({ opcode: 2, payload: Buffer.alloc(60), fin: false }, { opcode: 0, payload: Buffer.alloc(40) });
    assert.deepEqual(parsed(at, { maxPayload: 100 }), [message(Buffer.alloc(100))]);
    const over = stream({ opcode: 2, payload: Buffer.alloc(60), fin: false }, { opcode: 0, payload: Buffer.alloc(41) });
    assert.deepEqual(parsed(over, { maxPayload: 100 }), [tooBig]);
    // Control frames in between do not count, and the count starts again with the next message.
    const next = stream(
      { opcode: 2, payload: Buffer.alloc(100) },
      { opcode: 9, payload: Buffer.alloc(50) },
      { opcode: 2, payload: Buffer.alloc(100) },
    );
    assert.equal(parsed(next, { maxPayload: 100 }).length, 3);
  });

  test('the limit is judged as soon as the length is in, before the mask and payload (nothing is buffered)', () => {
    const sink = new RecordingSink();
    new FrameParser(sink, { maxPayload: 1000 }).push(frame({ opcode: 2, payload: Buffer.alloc(2000) }).subarray(0, 4));
    assert.deepEqual(sink.events, [tooBig]);
  });

  test('max payload 0 is no limit', () => {
    assert.equal(parsed(frame({ opcode: 2, payload: Buffer.alloc(70_000) }), { maxPayload: 0 }).length, 1);
  });

  test('max fragments (ws server default 16384): one frame more is 1008 once that frame is in', () => {
    const frames = (n: number): Buffer =>
      stream(
        ...Array.from({ length: n }, (_, i): FrameSpec => ({
          opcode: i === 0 ? 2 : 0,
          payload: bin('f'),
          fin: i === n - 1,
        })),
      );
    assert.deepEqual(parsed(frames(3), { maxPayload: 0, maxFragments: 3 }), [message('fff')]);
    assert.deepEqual(parsed(frames(4), { maxPayload: 0, maxFragments: 3 }), [
      { kind: 'error', code: 'WS_ERR_TOO_MANY_BUFFERED_PARTS', closeCode: 1008, message: 'Too many message fragments' },
    ]);
  });
});

describe('FrameParser: chunk boundaries', () => {
  const streams: [string, Buffer][] = [
    [
      'fragments, controls, text, close',
      stream(
        { opcode: 2, payload: bin('abc'), fin: false, key: 0x11223344 },
        { opcode: 9, payload: bin('p') },
        { opcode: 0, payload: bin('defgh'), key: 0x55667788 },
        { opcode: 1, payload: bin('ünï€😀') },
        { opcode: 8, payload: closePayload(1000, 'done') },
      ),
    ],
    ['16-bit length', frame({ opcode: 2, payload: Buffer.alloc(300, 9) })],
    ['64-bit length', frame({ opcode: 2, payload: Buffer.alloc(40, 8), lengthForm: '64' })],
    ['over the limit', stream({ opcode: 2, payload: Buffer.alloc(30) }, { opcode: 2, payload: Buffer.alloc(200) })],
    [
      'a fault after a message',
      stream({ opcode: 2, payload: bin('ok') }, { opcode: 10, payload: bin('x'), fin: false }),
    ],
  ];
  for (const [name, bytes] of streams) {
    test(`${name}: the same events whichever byte a chunk ends at`, () => {
      const options = { maxPayload: 100 };
      const whole = parseChunks([bytes], options);
      assert.deepEqual(whole, receiverChunks([bytes], options));
      for (let cut = 1; cut < bytes.length; cut++) {
        assert.deepEqual(parseChunks(splitAt(bytes, [cut]), options), whole, `cut at ${cut}`);
      }
      const bytewise = splitAt(
        bytes,
        Array.from({ length: bytes.length }, (_, i) => i),
      );
      assert.deepEqual(parseChunks(bytewise, options), whole, 'one byte per chunk');
    });
  }
});

describe('FrameParser: stop()', () => {
  test('from inside a sink call, ignores the rest of the chunk', () => {
    class StopAfterOne extends RecordingSink {
      parser: FrameParser | undefined;
      override onMessageEnd(text: boolean): void {
        super.onMessageEnd(text);
        this.parser?.stop();
      }
    }
    const sink = new StopAfterOne();
    const parser = (sink.parser = new FrameParser(sink, OPTIONS));
    assert.equal(parser.push(stream({ opcode: 2, payload: bin('one') }, { opcode: 2, payload: bin('two') })), false);
    assert.deepEqual(sink.events, [message('one')]);
  });
});
