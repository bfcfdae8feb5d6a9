// The relay through a real proxy: ws:// and wss:// on one port, integrity, close semantics, limits, backpressure.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import {
  closed,
  openWs,
  startEchoTarget,
  startFloodTarget,
  startProxy,
  startTarget,
  waitFor,
  waitForFloodToStop,
  type TestProxy,
  type TestTarget,
} from '../../helpers/proxy.js';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

for (const scheme of ['ws', 'wss'] as const) {
  describe(`relay over ${scheme}://`, () => {
    let target: TestTarget;
    let proxy: TestProxy;
    const url = (path = '/websockify'): string => `${scheme}://127.0.0.1:${proxy.port}${path}`;
    const opts = (): WebSocket.ClientOptions => ({ ca: proxy.ca });
    before(async () => {
      target = await startEchoTarget();
      proxy = await startProxy(target.port);
    });
    after(async () => {
      await proxy.close();
      await target.close();
    });

    test('echoes binary messages through the target', async () => {
      const ws = await openWs(url(), opts());
      ws.send(Buffer.from('hello'));
      const [data, isBinary] = (await once(ws, 'message')) as [Buffer, boolean];
      assert.equal(isBinary, true);
      assert.equal(data.toString(), 'hello');
      ws.close(1000);
      assert.equal((await closed(ws)).code, 1000);
    });

    test("answers 'binary' when offered in 'base64, binary' (websockify answers 400)", async () => {
      const ws = await openWs(url(), opts(), ['base64', 'binary']);
      assert.equal(ws.protocol, 'binary');
      ws.close();
      await closed(ws);
    });

    test('answers no subprotocol when none is offered (modern noVNC)', async () => {
      const ws = await openWs(url(), opts());
      assert.equal(ws.protocol, '');
      ws.close();
      await closed(ws);
    });

    test('any path and query reach the target (noVNC path settings)', async () => {
      const ws = await openWs(url('/some/prefix/websockify?x=1'), opts());
      ws.send(Buffer.from([1, 2, 3]));
      const [data] = (await once(ws, 'message')) as [Buffer];
      assert.deepEqual([...data], [1, 2, 3]);
      ws.close();
      await closed(ws);
    });

    test('text frame closes with 1003', async () => {
      const ws = await openWs(url(), opts());
      ws.send('text is not relayed');
      const c = await closed(ws);
      assert.equal(c.code, 1003);
      assert.match(c.reason, /Text frames/);
    });

    test('a message over --max-message-size closes with 1009', async () => {
      const small = await startProxy(target.port, { limits: { maxMessageBytes: 1024 } });
      try {
        const ws = await openWs(`${scheme}://127.0.0.1:${small.port}/`, opts());
        ws.send(Buffer.alloc(4096));
        assert.equal((await closed(ws)).code, 1009);
        await waitFor(() => small.logs.some((l) => l.includes('reason=MESSAGE_TOO_BIG')), 2000, 'close log line');
      } finally {
        await small.close();
      }
    });
  });
}

describe('integrity and close semantics', () => {
  // 1 MiB high-water mark: plain targets are read 1 MiB at a time into pooled chunks (src/relay/connect.ts). The
  // target writes its megabyte the moment it accepts, before the relay is attached: nothing may be lost or reordered.
  for (const [scheme, highWaterMark] of [
    ['ws', undefined],
    ['wss', undefined],
    ['ws', 1 << 20],
    ['wss', 1 << 20],
  ] as const) {
    test(`1 MiB each way over ${scheme}:// arrives intact (SHA-256)${highWaterMark ? ', 1 MiB high-water mark' : ''}`, async () => {
      const fromTarget = randomBytes(1024 * 1024);
      const received: Buffer[] = [];
      let targetEnded!: () => void;
      const targetGotEof = new Promise<void>((r) => (targetEnded = r));
      const target = await startTarget((socket) => {
        socket.on('data', (c: Buffer) => received.push(c));
        socket.on('end', () => targetEnded());
        socket.write(fromTarget);
      });
      const proxy = await startProxy(target.port, highWaterMark ? { limits: { highWaterMark } } : {});
      try {
        const ws = await openWs(`${scheme}://127.0.0.1:${proxy.port}/websockify`, { ca: proxy.ca });
        const got: Buffer[] = [];
        let gotBytes = 0;
        const allIn = new Promise<void>((resolve) => {
          ws.on('message', (d: Buffer) => {
            got.push(d);
            gotBytes += d.length;
            if (gotBytes >= fromTarget.length) resolve();
          });
        });
        const toTarget = randomBytes(1024 * 1024);
        for (let off = 0; off < toTarget.length; off += 64 * 1024) ws.send(toTarget.subarray(off, off + 64 * 1024));
        await allIn;
        assert.equal(sha256(Buffer.concat(got)), sha256(fromTarget));
        ws.close(1000);
        await targetGotEof; // client close → target gets every byte, then EOF
        assert.equal(sha256(Buffer.concat(received)), sha256(toTarget));
        await closed(ws).catch(() => undefined);
      } finally {
        await proxy.close();
        await target.close();
      }
    });
  }

  test('target EOF: queued data first, then close 1000 "Target closed"', async () => {
    const target = await startTarget((socket) => socket.end(Buffer.from('goodbye')));
    const proxy = await startProxy(target.port);
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/`);
      const messages: string[] = [];
      ws.on('message', (d: Buffer) => messages.push(d.toString()));
      const c = await closed(ws);
      assert.deepEqual(messages, ['goodbye']);
      assert.equal(c.code, 1000);
      assert.equal(c.reason, 'Target closed');
      await waitFor(
        () => proxy.logs.some((l) => l.includes('session closed') && l.includes('reason=TARGET_CLOSED')),
        2000,
        'log',
      );
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('client close: every message sent before the close frame reaches the target, then EOF', async () => {
    const chunks: Buffer[] = [];
    let done!: () => void;
    const eof = new Promise<void>((r) => (done = r));
    const target = await startTarget((socket) => {
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => done());
    });
    const proxy = await startProxy(target.port);
    try {
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/`);
      const sent: Buffer[] = [];
      for (let i = 0; i < 200; i++) {
        const b = randomBytes(1000 + i);
        sent.push(b);
        ws.send(b);
      }
      ws.close(1000, 'bye'); // queued right behind the data, no waiting
      await eof;
      assert.equal(sha256(Buffer.concat(chunks)), sha256(Buffer.concat(sent)));
      await waitFor(
        () => proxy.logs.some((l) => l.includes('reason=CLIENT_CLOSED') && l.includes('close_code=1000')),
        2000,
        'log',
      );
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('target reset mid-session closes with 1011 and the proxy keeps serving', async () => {
    const target = await startTarget((socket) => {
      socket.once('data', () => socket.resetAndDestroy());
    });
    const proxy = await startProxy(target.port);
    try {
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/`);
      ws.send(Buffer.from('trigger'));
      const c = await closed(ws);
      assert.equal(c.code, 1011);
      const again = await openWs(`ws://127.0.0.1:${proxy.port}/`);
      assert.equal(again.readyState, WebSocket.OPEN);
      again.terminate();
    } finally {
      await proxy.close();
      await target.close();
    }
  });
});

describe('backpressure', () => {
  for (const highWaterMark of [64 * 1024, 1 << 20]) {
    test(`slow client while the target floods: the proxy buffers a bounded amount and pauses the target (mark ${highWaterMark >> 10} KiB)`, async () => {
      const target = await startFloodTarget();
      const proxy = await startProxy(target.port, { limits: { highWaterMark } });
      try {
        const ws = await openWs(`ws://127.0.0.1:${proxy.port}/`);
        ws.pause(); // the client stops reading: its socket fills, then the proxy's
        await waitFor(() => proxy.server.sessions()[0]?.targetPaused === true, 10_000, 'target paused');
        // Let the target write until the kernel buffers are full too, then check what the proxy itself holds.
        await waitForFloodToStop(target, 10_000);
        const s = proxy.server.sessions()[0];
        assert.ok(s, 'session present');
        // Bound: the high-water mark plus one read from the target (the larger of 64 KiB and the mark) plus what the
        // paused socket pre-read (one more read).
        const held = s.bufferedToClient + s.unreadFromTarget;
        assert.ok(held <= highWaterMark + 2 * Math.max(64 * 1024, highWaterMark), `proxy holds ${held} bytes`);
        assert.ok(target.written() < 64 * 1024 * 1024, `target wrote ${target.written()} bytes before being stopped`);
        target.stop();
        ws.terminate();
      } finally {
        await proxy.close();
        await target.close();
      }
    });
  }

  test('slow target while the client floods: WebSocket reads pause and the buffer stays bounded', async () => {
    const target = await startTarget((socket) => socket.pause()); // never reads
    const highWaterMark = 64 * 1024;
    const proxy = await startProxy(target.port, { limits: { highWaterMark } });
    try {
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/`);
      const msg = Buffer.alloc(64 * 1024, 1);
      let stop = false;
      const flood = async (): Promise<void> => {
        while (!stop && ws.readyState === WebSocket.OPEN) {
          if (ws.bufferedAmount > 1024 * 1024) await new Promise((r) => setTimeout(r, 5));
          else ws.send(msg);
        }
      };
      const running = flood();
      await waitFor(() => proxy.server.sessions()[0]?.clientPaused === true, 10_000, 'client paused');
      let last = -1;
      await waitFor(
        () => {
          const now = proxy.server.sessions()[0]?.bytesFromClient ?? 0;
          const stable = now === last;
          last = now;
          return stable;
        },
        10_000,
        'relay to stop taking data',
      );
      const s = proxy.server.sessions()[0];
      assert.ok(s);
      // write() said "full" at the high-water mark; at most one more message (the one that crossed it) is queued.
      assert.ok(
        s.bufferedToTarget <= 16 * 1024 + msg.length * 2,
        `proxy holds ${s.bufferedToTarget} bytes for the target`,
      );
      stop = true;
      ws.terminate();
      await running;
    } finally {
      await proxy.close();
      await target.close();
    }
  });
});
