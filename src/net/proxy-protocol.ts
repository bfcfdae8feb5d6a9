/**
 * PROXY protocol v1 (text) and v2 (binary) (haproxy.org/download/2.9/doc/proxy-protocol.txt), both directions, pure:
 * `parseProxyHeader` reads what a front balancer sent (`proxyProtocolIn`; listener/proxy-protocol.ts feeds it from
 * the socket), `proxyHeaderV1`/`proxyHeaderV2` build what we send to the target (`proxyProtocolOut`, websockify#630)
 * so a VNC/SSH server behind the proxy can see and log the real client.
 */
import ipaddr from 'ipaddr.js';
import { ipFamily, ipText, isV4, parseIp, type Ip } from './address.js';

/** The 12-byte v2 signature. */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** A v1 line is at most 107 bytes including CRLF (spec §2.1). */
export const V1_MAX = 107;

/** An endpoint the header names. */
export interface ProxyEndpoint {
  readonly address: string;
  readonly port: number;
}

/** What the parser says about the bytes so far. */
export type ProxyParse =
  | { kind: 'incomplete' }
  | { kind: 'invalid'; problem: string }
  | {
      kind: 'header';
      version: 1 | 2;
      /** Bytes the header occupies; the client's stream starts after them. */
      length: number;
      /**
       * The client and the address it connected to; undefined when the header says to use the socket's own addresses
       * (v2 LOCAL, e.g. the balancer's health check; v1 UNKNOWN; v2 UNSPEC/UNIX families or datagrams).
       */
      source?: ProxyEndpoint;
      destination?: ProxyEndpoint;
    };

function isPrefixOf(buf: Buffer, sig: Buffer): boolean {
  const n = Math.min(buf.length, sig.length);
  return buf.subarray(0, n).equals(sig.subarray(0, n));
}

function parseV1(buf: Buffer): ProxyParse {
  const end = buf.indexOf('\r\n', 0, 'latin1');
  if (end < 0)
    return buf.length >= V1_MAX
      ? { kind: 'invalid', problem: 'v1 line longer than 107 bytes' }
      : { kind: 'incomplete' };
  if (end + 2 > V1_MAX) return { kind: 'invalid', problem: 'v1 line longer than 107 bytes' };
  const line = buf.subarray(0, end).toString('latin1');
  const parts = line.split(' ');
  if (parts[1] === 'UNKNOWN') return { kind: 'header', version: 1, length: end + 2 };
  if (parts.length !== 6) return { kind: 'invalid', problem: 'v1 line does not have 6 fields' };
  const [, proto, src, dst, sport, dport] = parts as [string, string, string, string, string, string];
  const family = proto === 'TCP4' ? 4 : proto === 'TCP6' ? 6 : 0;
  if (family === 0) return { kind: 'invalid', problem: 'v1 protocol is not TCP4, TCP6 or UNKNOWN' };
  if (ipFamily(src) !== family || ipFamily(dst) !== family)
    return { kind: 'invalid', problem: `v1 addresses are not ${proto} addresses` };
  const port = (p: string): number | undefined =>
    /^(0|[1-9]\d{0,4})$/.test(p) && Number(p) <= 65535 ? Number(p) : undefined;
  const sp = port(sport);
  const dp = port(dport);
  if (sp === undefined || dp === undefined) return { kind: 'invalid', problem: 'v1 ports are not numbers 0-65535' };
  return {
    kind: 'header',
    version: 1,
    length: end + 2,
    source: { address: src, port: sp },
    destination: { address: dst, port: dp },
  };
}

/** The 16 bytes as RFC 5952 text, as the header says them (a mapped address stays mapped; the listener folds it). */
function ipv6Text(b: Buffer): string {
  return ipText(ipaddr.fromByteArray([...b]));
}

function parseV2(buf: Buffer): ProxyParse {
  if (buf.length < 16) return { kind: 'incomplete' };
  const verCmd = buf[12] ?? 0;
  if (verCmd >> 4 !== 2) return { kind: 'invalid', problem: `v2 version nibble is ${verCmd >> 4}, not 2` };
  const command = verCmd & 0x0f;
  if (command > 1) return { kind: 'invalid', problem: `v2 command ${command} is neither LOCAL nor PROXY` };
  const famProto = buf[13] ?? 0;
  const length = 16 + buf.readUInt16BE(14);
  if (buf.length < length) return { kind: 'incomplete' };
  // LOCAL: the balancer speaks for itself (health checks); the socket's addresses are the real ones.
  if (command === 0) return { kind: 'header', version: 2, length };
  const family = famProto >> 4;
  const proto = famProto & 0x0f;
  const body = buf.subarray(16, length);
  if (proto !== 1 || (family !== 1 && family !== 2)) {
    // UNSPEC, UNIX or datagram: nothing usable as a client IP; the spec says to fall back to the socket.
    if (family > 3 || proto > 2) return { kind: 'invalid', problem: 'v2 address family or protocol is out of range' };
    return { kind: 'header', version: 2, length };
  }
  if (family === 1) {
    if (body.length < 12) return { kind: 'invalid', problem: 'v2 TCP4 address block shorter than 12 bytes' };
    const ip = (o: number): string => ipaddr.fromByteArray([...body.subarray(o, o + 4)]).toString();
    return {
      kind: 'header',
      version: 2,
      length,
      source: { address: ip(0), port: body.readUInt16BE(8) },
      destination: { address: ip(4), port: body.readUInt16BE(10) },
    };
  }
  if (body.length < 36) return { kind: 'invalid', problem: 'v2 TCP6 address block shorter than 36 bytes' };
  return {
    kind: 'header',
    version: 2,
    length,
    source: { address: ipv6Text(body.subarray(0, 16)), port: body.readUInt16BE(32) },
    destination: { address: ipv6Text(body.subarray(16, 32)), port: body.readUInt16BE(34) },
  };
}

/** Parses a PROXY header at the start of `buf` (the bytes received so far). Never throws. */
export function parseProxyHeader(buf: Buffer): ProxyParse {
  if (buf.length === 0) return { kind: 'incomplete' };
  if (isPrefixOf(buf, V2_SIGNATURE)) return buf.length < V2_SIGNATURE.length ? { kind: 'incomplete' } : parseV2(buf);
  if (isPrefixOf(buf, V1_PREFIX)) return buf.length < V1_PREFIX.length ? { kind: 'incomplete' } : parseV1(buf);
  return { kind: 'invalid', problem: 'the connection does not start with a PROXY protocol header' };
}

/** An address and port, as the header carries them. */
export type HeaderEndpoint = ProxyEndpoint;

/** Both ends in one family: an IPv4 end next to an IPv6 end is written IPv4-mapped (::ffff:a.b.c.d). */
function sameFamily(src: HeaderEndpoint, dst: HeaderEndpoint): { s: Ip; d: Ip } | undefined {
  const s = parseIp(src.address);
  const d = parseIp(dst.address);
  if (!s || !d) return undefined;
  if (s.kind() === d.kind()) return { s, d };
  const v6 = (ip: Ip): Ip => (isV4(ip) ? ip.toIPv4MappedAddress() : ip);
  return { s: v6(s), d: v6(d) };
}

/** A v1 line: `PROXY TCP4 src dst sport dport\r\n`, or `PROXY UNKNOWN\r\n` when the client has no IP (unix listener). */
export function proxyHeaderV1(src: HeaderEndpoint | undefined, dst: HeaderEndpoint | undefined): Buffer {
  const both = src && dst ? sameFamily(src, dst) : undefined;
  if (!src || !dst || !both) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  const family = both.s.kind() === 'ipv4' ? 4 : 6;
  return Buffer.from(`PROXY TCP${family} ${ipText(both.s)} ${ipText(both.d)} ${src.port} ${dst.port}\r\n`, 'latin1');
}

/** A v2 header: PROXY command, TCP over IPv4/IPv6, no TLVs; LOCAL with AF_UNSPEC when the client has no IP. */
export function proxyHeaderV2(src: HeaderEndpoint | undefined, dst: HeaderEndpoint | undefined): Buffer {
  const both = src && dst ? sameFamily(src, dst) : undefined;
  if (!src || !dst || !both) return Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
  const a = both.s.toByteArray();
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(src.port, 0);
  ports.writeUInt16BE(dst.port, 2);
  const block = Buffer.concat([Buffer.from(a), Buffer.from(both.d.toByteArray()), ports]);
  // 0x11: TCP over IPv4 (12-byte block), 0x21: TCP over IPv6 (36 bytes).
  return Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, a.length === 4 ? 0x11 : 0x21, 0x00, block.length]), block]);
}
