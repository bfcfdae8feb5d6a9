import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { classifyFirstByte, sniffTransport } from '../../../src/listener/sniff.js';

describe('classifyFirstByte', () => {
  test('of all 256 byte values, exactly 0x16 and 0x80 are TLS', () => {
    const tls: number[] = [];
    for (let b = 0; b < 256; b++) if (classifyFirstByte(b) === 'tls') tls.push(b);
    assert.deepEqual(tls, [0x16, 0x80]);
  });

  test('the two TLS bytes and their neighbours', () => {
    assert.equal(classifyFirstByte(0x16), 'tls'); // TLS handshake record
    assert.equal(classifyFirstByte(0x80), 'tls'); // SSLv2-style ClientHello
    assert.equal(classifyFirstByte(0x15), 'plain');
    assert.equal(classifyFirstByte(0x17), 'plain');
    assert.equal(classifyFirstByte(0x7f), 'plain');
    assert.equal(classifyFirstByte(0x81), 'plain');
    assert.equal(classifyFirstByte(0xff), 'plain');
    assert.equal(classifyFirstByte(0x00), 'plain');
  });

  test('the first byte of HTTP methods is plain', () => {
    for (const method of ['GET', 'HEAD', 'POST', 'OPTIONS', 'PRI']) {
      assert.equal(classifyFirstByte(method.charCodeAt(0)), 'plain', method);
    }
  });
});

/** Accepts one connection on 127.0.0.1, lets `client(port)` write to it, and sniffs it. */
async function sniffOne(client: (port: number) => Socket): Promise<{ transport: string | undefined; replay: Buffer }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket = client((server.address() as AddressInfo).port);
  socket.on('error', () => {});
  const [accepted] = (await once(server, 'connection')) as [Socket];
  const transport = await sniffTransport(accepted);
  // The bytes read are put back: the next reader sees the stream from its first byte.
  const [replay] = transport === undefined ? [Buffer.alloc(0)] : ((await once(accepted.resume(), 'data')) as [Buffer]);
  socket.destroy();
  accepted.destroy();
  server.close();
  return { transport, replay };
}

describe('sniffTransport (real sockets)', () => {
  test('a real TLS ClientHello is tls, and its bytes are replayed from 0x16', async () => {
    const { transport, replay } = await sniffOne((port) =>
      tlsConnect({ host: '127.0.0.1', port, servername: 'localhost' }),
    );
    assert.equal(transport, 'tls');
    assert.equal(replay[0], 0x16);
  });
  test('an HTTP request is plain, and is replayed whole', async () => {
    const { transport, replay } = await sniffOne((port) => connect(port, '127.0.0.1').end('GET / HTTP/1.1\r\n\r\n'));
    assert.equal(transport, 'plain');
    assert.equal(replay.toString('latin1'), 'GET / HTTP/1.1\r\n\r\n');
  });
  test('a client that leaves before sending anything resolves undefined', async () => {
    const { transport } = await sniffOne((port) => connect(port, '127.0.0.1').end());
    assert.equal(transport, undefined);
  });
});
