// A PROXY v2 header carries IPv6 addresses as 16 bytes, so an IPv4 client behind an IPv6 balancer arrives mapped
// (::ffff:198.51.100.7). It is one client in one spelling everywhere: the log line and the header sent on to the target
// name the IPv4 address (net/address.ts folds every mapped spelling, not only the dotted one).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import type { ClientAddressConfig } from '../../../src/config/types.js';
import { V2_SIGNATURE } from '../../../src/net/proxy-protocol.js';
import { parseAddressRange, type AddressRange } from '../../../src/policy/cidr.js';
import { startProxy, startTarget, waitFor } from '../../helpers/proxy.js';

const loopback = parseAddressRange('127.0.0.0/8', false) as AddressRange;
const clientAddress: ClientAddressConfig = {
  proxyProtocolIn: true,
  trustedProxies: [loopback],
  trustForwarded: false,
  proxyProtocolOut: 'v1',
};

/** A v2 PROXY TCP6 header from `src` to `dst` (each 16 bytes). */
function v2Tcp6(src: number[], sport: number, dst: number[], dport: number): Buffer {
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(sport, 0);
  ports.writeUInt16BE(dport, 2);
  return Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x21, 0, 36]), Buffer.from(src), Buffer.from(dst), ports]);
}
const mapped = (v4: number[]): number[] => [...Array<number>(10).fill(0), 0xff, 0xff, ...v4];

describe('a mapped client from a PROXY v2 TCP6 header', () => {
  test('is logged and passed on (--proxy-protocol-out v1) as its IPv4 address', async () => {
    const lines: string[] = [];
    const target = await startTarget((socket) => {
      let buf = '';
      socket.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        const end = buf.indexOf('\r\n');
        if (end >= 0 && lines.length === 0) lines.push(buf.slice(0, end + 2));
      });
    });
    const proxy = await startProxy(target.port, { clientAddress });
    try {
      const raw = connect(proxy.port, '127.0.0.1');
      raw.on('error', () => {});
      await once(raw, 'connect');
      raw.write(v2Tcp6(mapped([198, 51, 100, 7]), 40000, mapped([203, 0, 113, 9]), 443));
      const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/websockify`, { createConnection: () => raw });
      ws.on('error', () => {});
      await once(ws, 'open');
      await waitFor(() => lines.length > 0, 5_000, 'the PROXY line at the target');
      assert.equal(lines[0], 'PROXY TCP4 198.51.100.7 203.0.113.9 40000 443\r\n');
      ws.terminate();
      await waitFor(() => proxy.logs.some((l) => l.includes('session closed')), 5_000, 'session closed line');
      assert.ok(
        proxy.logs.some((l) => l.includes('session closed') && l.includes('peer=198.51.100.7:40000')),
        proxy.logs.join('\n'),
      );
    } finally {
      await proxy.close();
      await target.close();
    }
  });
});
