// The Relay between a real WebSocket pair and a real TCP pair on 127.0.0.1 (no proxy server around it).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { Relay, type CloseInfo, type RelayOptions } from '../../../src/relay/relay.js';
import { closed, waitFor } from '../../helpers/proxy.js';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
const tcp = createServer();
tcp.listen(0, '127.0.0.1');
after(async () => {
  wss.close();
  tcp.close();
  await once(tcp, 'close');
});

/** A session: `client` is the browser's WebSocket, `remote` the target's end of the TCP connection. */
interface Session {
  readonly relay: Relay;
  readonly client: WebSocket;
  readonly remote: Socket;
  readonly ended: CloseInfo[];
}

async function session(options: Partial<RelayOptions> = {}): Promise<Session> {
  if (!wss.address()) await once(wss, 'listening');
  if (!tcp.listening) await once(tcp, 'listening');
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`);
  const [[serverWs]] = (await Promise.all([once(wss, 'connection'), once(client, 'open')])) as [[WebSocket], unknown];
  const target = connect((tcp.address() as AddressInfo).port, '127.0.0.1');
  const [[remote]] = (await Promise.all([once(tcp, 'connection'), once(target, 'connect')])) as [[Socket], unknown];
  remote.on('error', () => {});
  const ended: CloseInfo[] = [];
  const relay = new Relay(serverWs, target, {
    highWaterMark: 64 * 1024,
    heartbeatMs: 0,
    ...options,
    onDone: (i) => ended.push(i),
  });
  return { relay, client, remote, ended };
}

/** Waits until `value()` is the same on two polls in a row (a stream that stopped), and returns it. */
async function settled(value: () => number, what: string): Promise<number> {
  let last = -1;
  await waitFor(
    () => {
      const now = value();
      const same = now === last;
      last = now;
      return same;
    },
    10_000,
    what,
  );
  return last;
}

/** Reads from `socket` until `n` bytes have come. */
async function readBytes(socket: Socket, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  socket.on('data', (c: Buffer) => {
    chunks.push(c);
    got += c.length;
  });
  await waitFor(() => got >= n, 10_000, `${n} bytes`);
  return Buffer.concat(chunks);
}

describe('Relay', () => {
  test('bytes go both ways, one binary message per target read', async () => {
    const { client, remote, relay } = await session();
    const fromClient = readBytes(remote, 5);
    client.send(Buffer.from('hello'));
    assert.equal((await fromClient).toString(), 'hello');
    const message = once(client, 'message') as Promise<[Buffer, boolean]>;
    remote.write('world');
    const [data, isBinary] = await message;
    assert.equal(data.toString(), 'world');
    assert.equal(isBinary, true);
    assert.equal(relay.stats().bytesFromClient, 5);
    assert.equal(relay.stats().bytesToClient, 5);
    client.terminate();
  });

  test('target → client: the target is not read while the client does not read, and is read again when it does', async () => {
    const { client, remote, relay } = await session({ highWaterMark: 16 * 1024 });
    client.pause(); // the client stops reading: the proxy's sends stop flushing
    const total = 32 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 1);
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        sent += chunk.length;
        if (!remote.write(chunk)) return void remote.once('drain', pump);
      }
    };
    pump();
    await waitFor(() => relay.stats().targetPaused, 10_000, 'target paused');
    const stalled = await settled(() => sent - remote.writableLength, 'target writes to stall');
    assert.ok(stalled < total / 2, `the target's writes stall (${stalled} of ${total} bytes taken)`);
    assert.ok(relay.stats().bufferedToClient < 1024 * 1024, 'the proxy holds little beyond the high-water mark');
    let received = 0;
    client.on('message', (d: Buffer) => (received += d.length));
    client.resume();
    await waitFor(() => received === total, 20_000, 'every byte to reach the client');
    assert.equal(relay.stats().targetPaused, false);
    client.terminate();
  });

  test('client → target: the WebSocket is not read while the target does not read, and is read again when it does', async () => {
    const { client, remote, relay } = await session();
    remote.pause();
    const chunk = Buffer.alloc(256 * 1024, 2);
    for (let i = 0; i < 64; i++) client.send(chunk); // 16 MiB: more than the kernel buffers hold
    await waitFor(() => relay.stats().clientPaused, 10_000, 'client paused');
    const waiting = await settled(() => client.bufferedAmount, 'the client to stop flushing');
    assert.ok(waiting > 0, 'bytes stay with the client: the proxy stopped reading them');
    assert.ok(
      relay.stats().bufferedToTarget < 8 * 1024 * 1024,
      `the proxy holds ${relay.stats().bufferedToTarget} bytes`,
    );
    const all = readBytes(remote, 64 * chunk.length);
    remote.resume();
    assert.equal((await all).length, 64 * chunk.length, 'every byte arrives once the target reads');
    assert.equal(relay.stats().clientPaused, false);
    client.terminate();
  });

  test('target EOF: queued data first, then 1000 "Target closed"', async () => {
    const { client, remote, ended } = await session();
    const got: string[] = [];
    client.on('message', (d: Buffer) => got.push(d.toString()));
    remote.end('last words');
    assert.deepEqual(await closed(client), { code: 1000, reason: 'Target closed' });
    assert.deepEqual(got, ['last words']);
    await waitFor(() => ended.length === 1, 5_000, 'session settled');
    assert.equal(ended[0]?.reason, 'TARGET_CLOSED');
    assert.equal(ended[0]?.closeCode, 1000);
  });

  test('client close: its code is kept, every byte reaches the target, then EOF', async () => {
    const { client, remote, ended } = await session();
    const chunks: Buffer[] = [];
    remote.on('data', (c: Buffer) => chunks.push(c));
    client.send(Buffer.from('before close'));
    client.close(4001, 'bye');
    await once(remote, 'end');
    assert.equal(Buffer.concat(chunks).toString(), 'before close');
    remote.end();
    await waitFor(() => ended.length === 1, 5_000, 'session settled');
    assert.equal(ended[0]?.reason, 'CLIENT_CLOSED');
    assert.equal(ended[0]?.closeCode, 4001);
    assert.equal(ended[0]?.bytesFromClient, 12);
  });

  test('a text frame closes with 1003; the target gets EOF, not the text', async () => {
    const { client, remote, ended } = await session();
    const chunks: Buffer[] = [];
    remote.on('data', (c: Buffer) => chunks.push(c));
    const remoteEnded = once(remote, 'end');
    client.send('text');
    assert.deepEqual(await closed(client), { code: 1003, reason: 'Text frames are not supported' });
    await remoteEnded;
    remote.end();
    await waitFor(() => ended.length === 1, 5_000, 'session settled');
    assert.equal(ended[0]?.reason, 'TEXT_FRAME');
    assert.equal(Buffer.concat(chunks).length, 0);
  });

  test('a target reset closes the client with 1011', async () => {
    const { client, remote, ended } = await session();
    remote.resetAndDestroy();
    assert.deepEqual(await closed(client), { code: 1011, reason: 'Target connection failed' });
    await waitFor(() => ended.length === 1, 5_000, 'session settled');
    assert.equal(ended[0]?.reason, 'TARGET_ERROR');
    assert.equal(ended[0]?.detail, 'ECONNRESET');
  });

  test('terminate() settles at once, and only once when the sockets report their close later', async () => {
    const { client, remote, relay, ended } = await session();
    const clientClosed = closed(client);
    const remoteClosed = once(remote, 'close');
    relay.terminate();
    assert.equal(ended.length, 1, 'settled synchronously');
    assert.equal(ended[0]?.reason, 'SERVER_SHUTDOWN');
    assert.equal((await clientClosed).code, 1006, 'cut, no close frame');
    await remoteClosed;
    relay.terminate();
    assert.equal(ended.length, 1, 'the later close events and a second terminate() add nothing');
    assert.equal((await relay.done).reason, 'SERVER_SHUTDOWN');
  });
});
