/**
 * PROXY protocol headers sent to the target (`--proxy-protocol-out`, websockify#630), so a VNC/SSH server behind the
 * proxy can see and log the real client. Pure builders; `connectTarget` writes the result before any relayed byte.
 */
import { isIP } from 'node:net';

/** An address and port, as the header carries them. */
export interface HeaderEndpoint {
  readonly address: string;
  readonly port: number;
}

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** Both ends in one family: an IPv4 end next to an IPv6 end is written IPv4-mapped (::ffff:a.b.c.d). */
function sameFamily(src: HeaderEndpoint, dst: HeaderEndpoint): { family: 4 | 6; src: HeaderEndpoint; dst: HeaderEndpoint } | undefined {
  const plain = (e: HeaderEndpoint): HeaderEndpoint => {
    const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(e.address);
    return m?.[1] ? { address: m[1], port: e.port } : e;
  };
  const s = plain(src);
  const d = plain(dst);
  const fs = isIP(s.address);
  const fd = isIP(d.address);
  if (fs === 0 || fd === 0) return undefined;
  if (fs === fd) return { family: fs === 4 ? 4 : 6, src: s, dst: d };
  const map = (e: HeaderEndpoint): HeaderEndpoint => (isIP(e.address) === 4 ? { address: `::ffff:${e.address}`, port: e.port } : e);
  return { family: 6, src: map(s), dst: map(d) };
}

function ipv6Bytes(address: string): Buffer {
  // Node normalises any IPv6 spelling (including embedded IPv4) through the URL parser; expand '::' afterwards.
  const host = new URL(`http://[${address.replace(/%.*$/, '')}]/`).hostname.slice(1, -1);
  const [head = '', tail] = host.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...h, ...Array<string>(tail === undefined ? 0 : 8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** A v1 line: `PROXY TCP4 src dst sport dport\r\n`, or `PROXY UNKNOWN\r\n` when the client has no IP (unix listener). */
export function proxyHeaderV1(src: HeaderEndpoint | undefined, dst: HeaderEndpoint | undefined): Buffer {
  const both = src && dst ? sameFamily(src, dst) : undefined;
  if (!both) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  const a6 = (a: string): string => (both.family === 6 ? new URL(`http://[${a}]/`).hostname.slice(1, -1) : a);
  return Buffer.from(`PROXY TCP${both.family} ${a6(both.src.address)} ${a6(both.dst.address)} ${both.src.port} ${both.dst.port}\r\n`, 'latin1');
}

/** A v2 header: PROXY command, TCP over IPv4/IPv6, no TLVs; LOCAL with AF_UNSPEC when the client has no IP. */
export function proxyHeaderV2(src: HeaderEndpoint | undefined, dst: HeaderEndpoint | undefined): Buffer {
  const both = src && dst ? sameFamily(src, dst) : undefined;
  if (!both) return Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
  if (both.family === 4) {
    const block = Buffer.alloc(12);
    Buffer.from(both.src.address.split('.').map(Number)).copy(block, 0);
    Buffer.from(both.dst.address.split('.').map(Number)).copy(block, 4);
    block.writeUInt16BE(both.src.port, 8);
    block.writeUInt16BE(both.dst.port, 10);
    return Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11, 0x00, 12]), block]);
  }
  const block = Buffer.alloc(36);
  ipv6Bytes(both.src.address).copy(block, 0);
  ipv6Bytes(both.dst.address).copy(block, 16);
  block.writeUInt16BE(both.src.port, 32);
  block.writeUInt16BE(both.dst.port, 34);
  return Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x21, 0x00, 36]), block]);
}
