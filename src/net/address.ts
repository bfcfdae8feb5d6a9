/**
 * IP addresses (pure), on ipaddr.js: parsing with IPv4-mapped IPv6 folded to IPv4, the per-client key, CIDR match,
 * `[v6]:port` formatting and the loopback test. Every place that reads or writes an address goes through here, so
 * one spelling rule holds for logs, caps, policy and PROXY headers. Imports nothing from src/ (a leaf below relay/).
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** A parsed address. IPv4-mapped IPv6 comes back as IPv4 from {@link parseIp}. */
export type Ip = ipaddr.IPv4 | ipaddr.IPv6;

/** Narrows a parsed address to IPv4 (ipaddr.js's `kind()` is a method, which TypeScript cannot narrow on). */
export function isV4(ip: Ip): ip is ipaddr.IPv4 {
  return ip.kind() === 'ipv4';
}

/** 4 or 6 for an IP literal as Node writes them (no `127.1`, no octal, IPv6 zone allowed), 0 for anything else. */
export function ipFamily(text: string): 0 | 4 | 6 {
  const f = isIP(text);
  return f === 4 || f === 6 ? f : 0;
}

/** Whether `text` is an IPv4 or IPv6 literal (unbracketed). */
export function isIpLiteral(text: string): boolean {
  return ipFamily(text) !== 0;
}

/**
 * ipaddr.js reads `::a.b.c.d` (IPv4-compatible, deprecated) as IPv4-mapped, and would then let `allowTarget`
 * 10.0.0.0/8` admit `::10.0.0.1`, which routes as IPv6. So a dotted tail becomes two hex groups first.
 */
function dottedTailToHex(text: string): string {
  const m = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (!m) return text;
  const [a = 0, b = 0, c = 0, d = 0] = m.slice(1).map(Number);
  return `${text.slice(0, m.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

/**
 * An IP literal, with IPv4-mapped IPv6 (`::ffff:10.0.0.1`, `::ffff:a00:1`) folded to the IPv4 address it carries, so
 * a mapped spelling cannot slip past an IPv4 rule; the IPv6 zone (`%eth0`) is dropped. Undefined for anything else.
 * Node's isIP gates the input: ipaddr.js alone also takes inet_aton forms (`127.1`, `0x7f.0.0.1`, `010.0.0.1`).
 */
export function parseIp(text: string): Ip | undefined {
  const family = isIP(text);
  if (family === 4) return ipaddr.IPv4.parse(text);
  if (family !== 6) return undefined;
  const v6 = ipaddr.IPv6.parse(dottedTailToHex(text.replace(/%.*$/s, '')));
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
}

/** `::ffff:1.2.3.4` (any mapped spelling) → `1.2.3.4`; anything else unchanged. One spelling per client in logs and keys. */
export function foldMapped(text: string): string {
  const ip = isIP(text) === 6 ? parseIp(text) : undefined;
  return ip?.kind() === 'ipv4' ? ip.toString() : text;
}

/** Canonical text of an address (RFC 5952 for IPv6: lowercase, longest zero run compressed). */
export function ipText(ip: Ip): string {
  return isV4(ip) ? ip.toString() : ip.toRFC5952String();
}

/**
 * The key a client address is counted under (rate limits, the per-IP cap, the failed-auth limit): IPv4 addresses one
 * each (IPv4-mapped IPv6 as the IPv4 address), IPv6 addresses by their /64 (one subscriber usually holds a whole
 * /64, so per-address counts could be dodged by rotating through it). Anything else (`unix`) is its own key.
 */
export function clientKey(address: string): string {
  const ip = parseIp(address);
  if (!ip) return address;
  if (isV4(ip)) return ip.toString();
  return `${ip.parts
    .slice(0, 4)
    .map((p) => p.toString(16).padStart(4, '0'))
    .join(':')}::/64`;
}

/** `[v6]` for a host with a colon (an IPv6 literal); names, IPv4 and already bracketed hosts as they are. */
export function bracketHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** `host:port`, or `[v6]:port` for IPv6. */
export function hostPort(host: string, port: number | string): string {
  return `${bracketHost(host)}:${port}`;
}

/**
 * Splits `host:port`, `[v6]:port` or websockify's unbracketed `::1:port` (last colon wins). Returns the host without
 * brackets. A string without a colon has no host; a bad bracket gives the whole text as host and no port.
 */
export function splitHostPort(text: string): { host: string | undefined; port: string } {
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0 || text[end + 1] !== ':') return { host: text, port: '' };
    return { host: text.slice(1, end), port: text.slice(end + 2) };
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { host: undefined, port: text };
  return { host: text.slice(0, colon), port: text.slice(colon + 1) };
}

/** Whether a host is reachable only from this machine: `localhost`, 127.0.0.0/8, `::1` (any spelling, bracketed or mapped). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || parseIp(h)?.range() === 'loopback';
}

/** An address range: the network address (host bits cleared) and the prefix length. */
export interface Cidr {
  readonly ip: Ip;
  readonly prefix: number;
}

/** Why a CIDR did not parse: not an address, or a prefix out of 0..max. */
export type CidrProblem = { readonly problem: 'address' } | { readonly problem: 'prefix'; readonly max: 32 | 128 };

function networkOf(ip: Ip, prefix: number): Ip {
  const mask = (ip.kind() === 'ipv4' ? ipaddr.IPv4 : ipaddr.IPv6).subnetMaskFromPrefixLength(prefix).toByteArray();
  return ipaddr.fromByteArray(ip.toByteArray().map((b, i) => b & (mask[i] ?? 0)));
}

/**
 * Parses `addr` or `addr/len` (no zone). A mapped IPv6 range (`::ffff:10.0.0.0/104`) is folded to IPv4 with the 96
 * mapped bits taken off its prefix. Hand-written rather than ipaddr.parseCIDR, which takes inet_aton forms and does
 * not fold.
 */
export function parseCidr(text: string): Cidr | CidrProblem {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const ip = addr.includes('%') ? undefined : parseIp(addr);
  if (!ip) return { problem: 'address' };
  const max = ip.kind() === 'ipv4' ? 32 : 128;
  const mappedShift = ip.kind() === 'ipv4' && isIP(addr) === 6 ? 96 : 0;
  if (slash < 0) return { ip, prefix: max };
  const p = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(p) || Number(p) - mappedShift > max || Number(p) < mappedShift)
    return { problem: 'prefix', max };
  const prefix = Number(p) - mappedShift;
  return { ip: networkOf(ip, prefix), prefix };
}

/** Whether `ip` (from {@link parseIp}) lies in `cidr`. Families never cross (mapped addresses are already folded). */
export function cidrContains(cidr: Cidr, ip: Ip): boolean {
  return ip.kind() === cidr.ip.kind() && ip.match(cidr.ip, cidr.prefix);
}

/** Whether every address of `inner` lies inside `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  return inner.prefix >= outer.prefix && cidrContains(outer, inner.ip);
}
