// Real client addresses behind a balancer: PROXY protocol v1/v2 in (byte-exact headers built here), out to a real
// target that reads the header, untrusted senders refused, PROXY + TLS on one port, Forwarded/X-Forwarded-For, and the
// per-IP rate limit keyed by the real address.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { parseAddressRange, type AddressRange } from '../../../src/policy/cidr.js';
import { V2_SIGNATURE } from '../../../src/listener/proxy-protocol.js';
import type { ClientAddressConfig } from '../../../src/config/types.js';
import {
  exchange,
  startProxy,
  startTarget,
  statusFor,
  statusOf,
  upgradeRequest,
  waitFor,
  type TestTarget,
} from '../../helpers/proxy.js';

const cidr = (t: string): AddressRange => {
  const r = parseAddressRange(t, false);
  if (typeof r === 'string') throw new Error(r);
  return r;
};

const clientAddress = (over: Partial<ClientAddressConfig>): ClientAddressConfig => ({
  proxyProtocolIn: false,
  trustedProxies: [cidr('127.0.0.0/8')],
  trustForwarded: false,
  proxyProtocolOut: undefined,
  ...over,
});

/** A target that records the bytes up to the end of the PROXY header it expects, then echoes the rest. */
async function startHeaderTarget(
  headerLength: (buf: Buffer) => number | undefined,
): Promise<TestTarget & { headers: Buffer[] }> {
  const headers: Buffer[] = [];
  const t = await startTarget((socket) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const n = headerLength(buf);
      if (n === undefined) return;
      socket.off('data', onData);
      headers.push(buf.subarray(0, n));
      if (buf.length > n) socket.write(buf.subarray(n));
      socket.pipe(socket);
    };
    socket.on('data', onData);
  });
  return Object.assign(t, { headers });
}

const v1Length = (buf: Buffer): number | undefined => {
  const i = buf.indexOf('\r\n');
  return i < 0 ? undefined : i + 2;
};
const v2Length = (buf: Buffer): number | undefined =>
  buf.length < 16 ? undefined : buf.length >= 16 + buf.readUInt16BE(14) ? 16 + buf.readUInt16BE(14) : undefined;

/** Opens a WebSocket over a socket that first sends `preamble` (as a balancer would). */
async function wsVia(port: number, preamble: Buffer, path = '/websockify', tls?: { ca: string }): Promise<WebSocket> {
  const raw = connect(port, '127.0.0.1');
  raw.on('error', () => {});
  await once(raw, 'connect');
  raw.write(preamble);
  const socket: Socket = tls ? tlsConnect({ socket: raw, servername: 'localhost', ca: tls.ca }) : raw;
  const ws = new WebSocket(`${tls ? 'wss' : 'ws'}://127.0.0.1:${port}${path}`, { createConnection: () => socket });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
  });
  return ws;
}

async function echo(ws: WebSocket, text: string): Promise<string> {
  ws.send(Buffer.from(text));
  const [d] = (await once(ws, 'message')) as [Buffer];
  return d.toString();
}

function v2Tcp4(
  src: [number, number, number, number],
  sport: number,
  dst: [number, number, number, number],
  dport: number,
): Buffer {
  const b = Buffer.alloc(12);
  Buffer.from(src).copy(b, 0);
  Buffer.from(dst).copy(b, 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11, 0, 12]), b]);
}

describe('PROXY protocol in and out', () => {
  test('v1 in → v1 out: the target reads the real client first, byte for byte, then the relay works', async () => {
    const target = await startHeaderTarget(v1Length);
    const proxy = await startProxy(target.port, {
      clientAddress: clientAddress({ proxyProtocolIn: true, proxyProtocolOut: 'v1' }),
    });
    try {
      const ws = await wsVia(proxy.port, Buffer.from('PROXY TCP4 192.0.2.10 192.0.2.20 51234 6080\r\n'));
      assert.equal(await echo(ws, 'hello'), 'hello');
      assert.equal(target.headers[0]?.toString('latin1'), 'PROXY TCP4 192.0.2.10 192.0.2.20 51234 6080\r\n');
      ws.terminate();
      await waitFor(() => proxy.logs.some((l) => l.includes('session closed')));
      assert.ok(
        proxy.logs.some((l) => l.includes('session closed') && l.includes('peer=192.0.2.10:51234')),
        'logs carry the real client',
      );
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('v2 in → v2 out, byte-exact; a v2 LOCAL health check uses the socket address', async () => {
    const target = await startHeaderTarget(v2Length);
    const proxy = await startProxy(target.port, {
      clientAddress: clientAddress({ proxyProtocolIn: true, proxyProtocolOut: 'v2' }),
    });
    try {
      const header = v2Tcp4([198, 51, 100, 7], 40000, [203, 0, 113, 9], 443);
      const ws = await wsVia(proxy.port, header);
      assert.equal(await echo(ws, 'v2'), 'v2');
      assert.deepEqual(target.headers[0], header, 'the target got exactly the header the balancer sent');
      ws.terminate();
      const local = Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0, 0])]);
      const res = await exchange(
        proxy.port,
        Buffer.concat([local, Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')]),
      );
      assert.equal(statusOf(res), 200, 'LOCAL: the balancer speaks for itself and is served');
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('an untrusted sender is refused; a trusted peer without a header is closed; the daemon keeps serving', async () => {
    const target = await startHeaderTarget(v1Length);
    const untrusted = await startProxy(target.port, {
      clientAddress: clientAddress({ proxyProtocolIn: true, trustedProxies: [cidr('10.0.0.0/8')] }),
    });
    const trusted = await startProxy(target.port, {
      clientAddress: clientAddress({ proxyProtocolIn: true, proxyProtocolOut: 'v1' }),
    });
    try {
      const refused = await exchange(
        untrusted.port,
        'PROXY TCP4 192.0.2.10 192.0.2.20 51234 6080\r\n' + upgradeRequest(),
      );
      assert.equal(refused, '', 'closed without an answer');
      await waitFor(
        () => untrusted.logs.some((l) => l.includes('reason=PROXY_UNTRUSTED')),
        5_000,
        'PROXY_UNTRUSTED log line',
      );
      assert.equal(await exchange(trusted.port, upgradeRequest()), '', 'no header: closed');
      await waitFor(
        () => trusted.logs.some((l) => l.includes('reason=PROXY_HEADER_INVALID')),
        5_000,
        'PROXY_HEADER_INVALID log line',
      );
      assert.equal(target.sockets.length, 0, 'the target never heard of either');
      const ws = await wsVia(trusted.port, Buffer.from('PROXY TCP6 2001:db8::5 2001:db8::6 1000 2000\r\n'));
      assert.equal(await echo(ws, 'still'), 'still');
      assert.equal(target.headers[0]?.toString('latin1'), 'PROXY TCP6 2001:db8::5 2001:db8::6 1000 2000\r\n');
      ws.terminate();
    } finally {
      await untrusted.close();
      await trusted.close();
      await target.close();
    }
  });

  test('a trusted peer that stalls mid-header is closed at the handshake deadline', async () => {
    const target = await startHeaderTarget(v1Length);
    const proxy = await startProxy(target.port, {
      clientAddress: clientAddress({ proxyProtocolIn: true }),
      limits: { handshakeTimeoutMs: 300 },
    });
    try {
      assert.equal(await exchange(proxy.port, 'PROXY TCP4 192.0.2.1 ', { timeoutMs: 5_000 }), '');
      assert.ok(proxy.logs.some((l) => l.includes('reason=HANDSHAKE_TIMEOUT') && l.includes('stage="PROXY header"')));
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('--max-connections-per-ip counts the real client, not the balancer', async () => {
    const target = await startHeaderTarget(() => 0);
    const proxy = await startProxy(target.port, {
      clientAddress: clientAddress({ proxyProtocolIn: true }),
      limits: { maxConnectionsPerIp: 1 },
    });
    try {
      const first = await wsVia(proxy.port, Buffer.from('PROXY TCP4 192.0.2.1 192.0.2.20 1111 6080\r\n'));
      const other = await wsVia(proxy.port, Buffer.from('PROXY TCP4 192.0.2.2 192.0.2.20 2222 6080\r\n'));
      assert.equal(
        await exchange(proxy.port, 'PROXY TCP4 192.0.2.1 192.0.2.20 3333 6080\r\n' + upgradeRequest()),
        '',
        'same client again: closed',
      );
      assert.equal(proxy.server.stats().refused.CONNECTION_LIMIT_PER_IP, 1);
      first.terminate();
      other.terminate();
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('PROXY header then TLS on the same port: wss works and the target learns the client', async () => {
    const target = await startHeaderTarget(v1Length);
    const proxy = await startProxy(target.port, {
      clientAddress: clientAddress({ proxyProtocolIn: true, proxyProtocolOut: 'v1' }),
    });
    try {
      const ws = await wsVia(proxy.port, Buffer.from('PROXY TCP4 192.0.2.33 192.0.2.20 4242 443\r\n'), '/websockify', {
        ca: proxy.ca,
      });
      assert.equal(await echo(ws, 'secure'), 'secure');
      assert.equal(target.headers[0]?.toString('latin1'), 'PROXY TCP4 192.0.2.33 192.0.2.20 4242 443\r\n');
      ws.terminate();
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('the rate limit counts real clients, not the balancer', async () => {
    const target = await startHeaderTarget(() => 0);
    const proxy = await startProxy(target.port, {
      clientAddress: clientAddress({ proxyProtocolIn: true }),
      policy: {
        maxSessionsPerToken: 0,
        rateLimit: { perSecond: 1 / 60, burst: 1 },
        allowTargets: [],
        allowedHosts: [],
        revalidateIntervalMs: 0,
      },
    });
    try {
      const a = 'PROXY TCP4 192.0.2.1 192.0.2.20 1111 6080\r\n';
      const b = 'PROXY TCP4 192.0.2.2 192.0.2.20 2222 6080\r\n';
      assert.equal(await statusFor(proxy.port, a + upgradeRequest()), 101);
      const second = await exchange(proxy.port, a + upgradeRequest());
      assert.equal(statusOf(second), 429);
      assert.match(second, /Retry-After: \d+/);
      assert.match(second, /X-Wsproxy-Reason: RATE_LIMITED/);
      assert.equal(await statusFor(proxy.port, b + upgradeRequest()), 101, 'another client behind the same balancer');
    } finally {
      await proxy.close();
      await target.close();
    }
  });
});

describe('per-token PROXY protocol (JSONTokenApi "proxy_protocol")', () => {
  test('a token can ask for v2, or for none, whatever --proxy-protocol-out says', async () => {
    const got: Buffer[] = [];
    const target = await startTarget((s) => s.on('data', (d: Buffer) => got.push(d)));
    const api = createHttpServer((req, res) => {
      const pp = req.url === '/t/v2' ? 'v2' : req.url === '/t/none' ? 'none' : undefined;
      res.end(JSON.stringify({ host: '127.0.0.1', port: target.port, ...(pp ? { proxy_protocol: pp } : {}) }));
    });
    api.on('error', () => {});
    api.listen(0, '127.0.0.1');
    await once(api, 'listening');
    const proxy = await startProxy(1, {
      targets: {
        kind: 'token',
        plugin: 'JSONTokenApi',
        source: `http://127.0.0.1:${(api.address() as AddressInfo).port}/t/%s`,
        from: 'query',
      },
      clientAddress: clientAddress({ proxyProtocolOut: 'v1' }),
    });
    try {
      const run = async (token: string): Promise<Buffer> => {
        got.length = 0;
        const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/?token=${token}`);
        await once(ws, 'open');
        ws.send(Buffer.from('END'));
        await waitFor(() => Buffer.concat(got).includes('END'), 5_000, 'data at the target');
        ws.terminate();
        return Buffer.concat(got);
      };
      assert.match((await run('default')).toString('latin1'), /^PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 \d+ \d+\r\nEND$/);
      const v2 = await run('v2');
      assert.deepEqual(v2.subarray(0, 12), V2_SIGNATURE);
      assert.equal(v2.subarray(28).toString(), 'END', 'a 28-byte v2 TCP4 header, then the data');
      assert.equal((await run('none')).toString('latin1'), 'END');
    } finally {
      await proxy.close();
      await target.close();
      api.close();
    }
  });
});

describe('--trust-forwarded', () => {
  test('X-Forwarded-For / Forwarded from a trusted peer name the client; from others they are ignored', async () => {
    const target = await startHeaderTarget(v1Length);
    const trusting = await startProxy(target.port, {
      clientAddress: clientAddress({ trustForwarded: true, proxyProtocolOut: 'v1' }),
    });
    const wary = await startProxy(target.port, {
      clientAddress: clientAddress({
        trustForwarded: true,
        trustedProxies: [cidr('10.0.0.0/8')],
        proxyProtocolOut: 'v1',
      }),
    });
    try {
      // A forged leftmost entry, the real client, then a trusted hop: the real client is the rightmost untrusted.
      assert.equal(
        await statusFor(
          trusting.port,
          upgradeRequest('/websockify', { 'X-Forwarded-For': '6.6.6.6, 198.51.100.23, 127.0.0.9' }),
        ),
        101,
      );
      await waitFor(() => target.headers.length === 1);
      assert.match(target.headers[0]?.toString('latin1') ?? '', /^PROXY TCP4 198\.51\.100\.23 127\.0\.0\.1 0 \d+\r\n$/);
      assert.equal(
        await statusFor(trusting.port, upgradeRequest('/websockify', { Forwarded: 'for="198.51.100.24:555"' })),
        101,
      );
      await waitFor(() => target.headers.length === 2);
      assert.match(
        target.headers[1]?.toString('latin1') ?? '',
        /^PROXY TCP4 198\.51\.100\.24 127\.0\.0\.1 555 \d+\r\n$/,
      );
      assert.equal(
        await statusFor(wary.port, upgradeRequest('/websockify', { 'X-Forwarded-For': '198.51.100.23' })),
        101,
      );
      await waitFor(() => target.headers.length === 3);
      assert.match(
        target.headers[2]?.toString('latin1') ?? '',
        /^PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 \d+ \d+\r\n$/,
        'untrusted peer: header ignored',
      );
    } finally {
      await trusting.close();
      await wary.close();
      await target.close();
    }
  });
});
