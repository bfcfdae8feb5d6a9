// --max-buffered-total: unfinished messages (FIN=0 fragments) of all sessions share one bound. Real sessions through a
// real proxy to a real echo target; the metric is read from the admin listener.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import type WebSocket from 'ws';
import { adminRequest } from '../../helpers/admin.js';
import { closed, openWs, startEchoTarget, startProxy, waitFor } from '../../helpers/proxy.js';

const KiB = 1024;

/** Collects what comes back on a session. */
function received(ws: WebSocket): () => number {
  let n = 0;
  ws.on('message', (d: Buffer) => (n += d.length));
  return () => n;
}

test('the session that pushes unfinished messages past --max-buffered-total gets 1009; the others go on; metric and log say so', async () => {
  const echo = await startEchoTarget();
  const proxy = await startProxy(echo.port, {
    limits: { maxBufferedTotal: 256 * KiB },
    admin: { listen: { kind: 'tcp', host: '127.0.0.1', port: 0 }, token: undefined },
  });
  try {
    const url = `ws://127.0.0.1:${proxy.port}/websockify`;
    const [a, b, c] = await Promise.all([
      openWs(url, {}, ['binary']),
      openWs(url, {}, ['binary']),
      openWs(url, {}, ['binary']),
    ]);
    assert.ok(a && b && c);
    const gotA = received(a);
    const gotB = received(b);
    const metric = async (): Promise<string> =>
      (await adminRequest(proxy.server.adminAddress() ?? '', 'GET', '/metrics')).body;
    // A and B hold 100 KiB each of an unfinished message.
    a.send(Buffer.alloc(100 * KiB, 1), { fin: false });
    b.send(Buffer.alloc(100 * KiB, 2), { fin: false });
    let lastMetrics = '';
    await (async () => {
      const end = Date.now() + 5000;
      while (!/^wsproxy_buffered_message_bytes 204800$/m.test((lastMetrics = await metric()))) {
        if (Date.now() > end)
          throw new Error(`A and B not accounted: ${lastMetrics.match(/^wsproxy_buffered.*$/m)?.[0]}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    // C goes past 256 KiB in total: C is closed with 1009.
    const cClosed = closed(c);
    c.on('error', () => {});
    c.send(Buffer.alloc(64 * KiB, 3), { fin: false });
    c.send(Buffer.alloc(64 * KiB, 3), { fin: false });
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('C was not closed')), 10_000).unref(),
    );
    assert.equal((await Promise.race([cClosed, timeout])).code, 1009);
    await waitFor(
      () =>
        proxy.logs.some(
          (l) =>
            l.includes('session closed') && l.includes('reason=MESSAGE_BUFFER_FULL') && l.includes('close_code=1009'),
        ),
      5000,
      'log line',
    );
    assert.equal(proxy.logs.filter((l) => l.includes('MESSAGE_BUFFER_FULL')).length, 1);
    // A and B finish their messages and get them echoed whole.
    a.send(Buffer.alloc(1, 1), { fin: true });
    b.send(Buffer.alloc(1, 2), { fin: true });
    await waitFor(() => gotA() === 100 * KiB + 1 && gotB() === 100 * KiB + 1, 5000, 'A and B echoed');
    const m = await metric();
    assert.match(m, /^wsproxy_message_buffer_full_total 1$/m);
    assert.match(m, /^wsproxy_buffered_message_bytes 0$/m);
    // The proxy goes on serving new sessions.
    const d = await openWs(url, {}, ['binary']);
    const reply = once(d, 'message');
    d.send(Buffer.from([9]));
    await reply;
    for (const ws of [a, b, d]) ws.close();
    await Promise.all([a, b, d].map((ws) => closed(ws)));
  } finally {
    await proxy.close();
    await echo.close();
  }
});
