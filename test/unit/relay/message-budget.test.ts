// The shared budget of unfinished messages, and how it reads ws's Receiver (real sockets, the installed ws).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { MessageBudget } from '../../../src/relay/message-budget.js';
import { heldByReceiver, watchReceiver } from '../../../src/websocket/receiver-budget.js';

describe('MessageBudget', () => {
  test('shares add up; growing past the limit is refused and changes nothing; shrinking and release always work', () => {
    const b = new MessageBudget(100);
    const x = b.share();
    const y = b.share();
    assert.equal(b.set(x, 60), true);
    assert.equal(b.set(y, 40), true);
    assert.equal(b.used, 100);
    assert.equal(b.set(y, 41), false);
    assert.equal(y.held, 40);
    assert.equal(b.used, 100);
    assert.equal(b.set(x, 10), true);
    assert.equal(b.set(y, 90), true);
    b.release(x);
    b.release(x);
    assert.equal(b.used, 90);
    b.limit = 50; // a reload lowers it: shrinking still works, growing does not
    assert.equal(b.set(y, 80), true);
    assert.equal(b.set(y, 81), false);
    b.release(y);
    assert.equal(b.used, 0);
  });
  test('limit 0 is no limit, and the total is still kept', () => {
    const b = new MessageBudget(0);
    const x = b.share();
    assert.equal(b.set(x, Number.MAX_SAFE_INTEGER / 2), true);
    assert.equal(b.used, Number.MAX_SAFE_INTEGER / 2);
  });
});

describe('watchReceiver against the installed ws', () => {
  test('counts FIN=0 fragments and a frame still arriving, releases on completion, fails the session over the limit with 1009', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await once(wss, 'listening');
    const budget = new MessageBudget(300 * 1024);
    const messages: number[] = [];
    wss.on('connection', (ws) => {
      watchReceiver(ws, budget);
      ws.on('message', (d: Buffer) => messages.push(d.length));
      ws.on('error', () => {});
    });
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    const waitUntil = async (check: () => boolean, what: string): Promise<void> => {
      const end = Date.now() + 5000;
      while (!check()) {
        if (Date.now() > end) throw new Error(`timed out: ${what} (used ${budget.used})`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    try {
      const a = new WebSocket(url, { perMessageDeflate: false });
      await once(a, 'open');
      a.send(Buffer.alloc(100 * 1024), { fin: false });
      await waitUntil(() => budget.used === 100 * 1024, 'fragment held');
      const [server] = [...wss.clients];
      assert.ok(server);
      assert.equal(heldByReceiver(server), 100 * 1024);
      a.send(Buffer.alloc(50 * 1024), { fin: true });
      await waitUntil(() => messages.includes(150 * 1024) && budget.used === 0, 'released on completion');
      // Over the limit: 1009, the budget is free again.
      const c = new WebSocket(url, { perMessageDeflate: false });
      c.on('error', () => {});
      await once(c, 'open');
      for (let i = 0; i < 4; i++) c.send(Buffer.alloc(100 * 1024), { fin: false });
      const [code] = (await once(c, 'close')) as [number];
      assert.equal(code, 1009);
      await waitUntil(() => budget.used === 0, 'released after the cut');
      a.close();
      await once(a, 'close');
    } finally {
      for (const c of wss.clients) c.terminate();
      wss.close();
    }
  });
});
