// Clients that go away before their session begins, through real sockets: each way of leaving has its own reason code
// (these were CLIENT_ERROR or CLIENT_GONE): nothing sent, a PROXY header cut short, a reset mid-request, a broken TLS
// layer, a client gone while its target was being connected.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { parseAddressRange, type AddressRange } from '../../../src/policy/cidr.js';
import {
  startEchoTarget,
  startProxy,
  startTarget,
  upgradeRequest,
  waitFor,
  type TestProxy,
  type TestTarget,
} from '../../helpers/proxy.js';

const loopback = (): AddressRange => {
  const r = parseAddressRange('127.0.0.0/8', false);
  if (typeof r === 'string') throw new Error(r);
  return r;
};

/** Opens a plain connection to the proxy; resolves with the socket once connected. */
async function open(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  return socket;
}

/** The proxy's log lines about the connection from `localPort`. */
function linesFor(proxy: TestProxy, localPort: number | undefined): string[] {
  return proxy.logs.filter(
    (l) =>
      l.includes(`peer=127.0.0.1:${localPort ?? 'none'} `) || l.includes(`peer=127.0.0.1:${localPort ?? 'none'}\n`),
  );
}

async function expectReason(proxy: TestProxy, localPort: number | undefined, reason: string): Promise<void> {
  await waitFor(
    () => linesFor(proxy, localPort).some((l) => l.includes(`reason=${reason}`)),
    5_000,
    `reason=${reason} for port ${localPort}: ${proxy.logs.slice(-5).join('')}`,
  );
  assert.ok(!proxy.logs.some((l) => l.includes('reason=CLIENT_ERROR')), 'the old catch-all code is gone');
}

describe('clients that leave before their session', () => {
  let target: TestTarget;
  let proxy: TestProxy;
  let proxied: TestProxy;
  before(async () => {
    target = await startEchoTarget();
    proxy = await startProxy(target.port);
    const clientAddress = {
      proxyProtocolIn: true,
      trustedProxies: [loopback()],
      trustForwarded: false,
      proxyProtocolOut: undefined,
    };
    proxied = await startProxy(target.port, { clientAddress });
  });
  after(async () => {
    await proxy.close();
    await proxied.close();
    await target.close();
  });

  test('a client that closes before sending anything: CLIENT_LEFT_EARLY', async () => {
    const socket = await open(proxy.port);
    const port = socket.localPort;
    socket.end();
    await once(socket, 'close');
    await expectReason(proxy, port, 'CLIENT_LEFT_EARLY');
  });

  test('a client that sends only blank lines and leaves: one CLIENT_LEFT_EARLY line (HTTP ignores them)', async () => {
    const socket = await open(proxy.port);
    const port = socket.localPort;
    socket.end('\r\n\r\n');
    await once(socket, 'close');
    await expectReason(proxy, port, 'CLIENT_LEFT_EARLY');
    assert.equal(linesFor(proxy, port).length, 1, linesFor(proxy, port).join(''));
  });

  test('a trusted peer that closes inside its PROXY header: PROXY_HEADER_INCOMPLETE', async () => {
    const socket = await open(proxied.port);
    const port = socket.localPort;
    socket.end('PROXY TCP4 192.0.2.1 ');
    await once(socket, 'close');
    await expectReason(proxied, port, 'PROXY_HEADER_INCOMPLETE');
  });

  test('a client that resets its connection in the middle of a request: CLIENT_RESET', async () => {
    const socket = await open(proxy.port);
    const port = socket.localPort;
    await new Promise((resolve) => socket.write('GET /websockify HTTP/1.1\r\nHost: 127.0.0.1\r\n', resolve));
    socket.resetAndDestroy();
    await expectReason(proxy, port, 'CLIENT_RESET');
  });

  test('a TLS client whose records stop decrypting after the handshake: CLIENT_TLS_ERROR', async () => {
    const raw = await open(proxy.port);
    const port = raw.localPort;
    const tls = tlsConnect({ socket: raw, ca: proxy.ca, servername: 'localhost' });
    await once(tls, 'secureConnect');
    tls.on('error', () => undefined);
    // An application-data record of garbage, written under the TLS layer: the server cannot decrypt it.
    const garbage = Buffer.alloc(64, 0x41);
    raw.write(Buffer.concat([Buffer.from([0x17, 0x03, 0x03, 0x00, garbage.length]), garbage]));
    // The HTTP server's clientError line carries no peer (it has no connection context), so any such line counts:
    // no other test here breaks a TLS layer.
    await waitFor(
      () => proxy.logs.some((l) => l.includes('reason=CLIENT_TLS_ERROR') && l.includes('error=ERR_SSL_')),
      5_000,
      `CLIENT_TLS_ERROR for port ${port}`,
    );
    tls.destroy();
  });

  test('a client that leaves while its target is being connected: CLIENT_LEFT_UPGRADE', async () => {
    // A target that takes the TCP connection but never answers the TLS handshake wsproxy starts (--ssl-target).
    const silent = await startTarget(() => undefined);
    const dialling = await startProxy(silent.port, { targetTls: { verify: 'none' } });
    try {
      const socket = await open(dialling.port);
      const port = socket.localPort;
      socket.write(upgradeRequest());
      await waitFor(() => silent.sockets.length > 0, 5_000, 'the target to be dialled');
      socket.destroy();
      await expectReason(dialling, port, 'CLIENT_LEFT_UPGRADE');
      assert.ok(!dialling.logs.some((l) => l.includes('reason=CLIENT_GONE')), 'CLIENT_GONE is left to sessions');
    } finally {
      await dialling.close();
      await silent.close();
    }
  });
});
