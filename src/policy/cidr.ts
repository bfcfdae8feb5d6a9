/**
 * Address ranges (pure): parsing `CIDR[:ports]` entries once at start and matching addresses against them. Used for
 * `--trusted-proxy` (who may tell us the real client address) and `--allow-target` (where sessions may go, checked
 * after DNS resolution). IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) are matched as the IPv4 address they carry,
 * so a mapped spelling cannot slip past an IPv4 rule.
 */
import { isIP } from 'node:net';

/** One address range, with an optional port set (`undefined` = every port). */
export interface AddressRange {
  readonly family: 4 | 6;
  /** The network address as 4 or 16 bytes. */
  readonly bytes: readonly number[];
  readonly prefix: number;
  /** Inclusive port ranges; undefined means every port. */
  readonly ports?: readonly (readonly [number, number])[] | undefined;
  /** The entry as written, for logs and messages. */
  readonly text: string;
}

function ipv4Bytes(text: string): number[] | undefined {
  if (isIP(text) !== 4) return undefined;
  return text.split('.').map(Number);
}

function ipv6Bytes(text: string): number[] | undefined {
  if (isIP(text) !== 6) return undefined;
  let t = text.toLowerCase();
  const zone = t.indexOf('%');
  if (zone >= 0) t = t.slice(0, zone);
  // An embedded dotted quad (::ffff:1.2.3.4) becomes two hex groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  if (dotted?.[1]) {
    const b = ipv4Bytes(dotted[1]);
    if (!b) return undefined;
    t = t.slice(0, -dotted[1].length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head = '', tail] = t.split('::');
  const h = head === '' ? [] : head.split(':');
  const tl = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? 0 : 8 - h.length - tl.length;
  const groups = [...h, ...Array<string>(fill).fill('0'), ...tl].map((g) => parseInt(g, 16));
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return undefined;
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

/** The bytes of an address, with IPv4-mapped IPv6 folded to IPv4. Undefined if `text` is not an IP address. */
export function addressBytes(text: string): { family: 4 | 6; bytes: number[] } | undefined {
  const v4 = ipv4Bytes(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = ipv6Bytes(text);
  if (!v6) return undefined;
  if (v6.slice(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff) return { family: 4, bytes: v6.slice(12) };
  return { family: 6, bytes: v6 };
}

/** `::ffff:1.2.3.4` → `1.2.3.4`; anything else unchanged. Logs and per-IP keys see one spelling per client. */
export function plainIp(text: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  return m?.[1] ?? text;
}

function parsePorts(text: string): [number, number][] | undefined {
  const out: [number, number][] = [];
  for (const part of text.split(',')) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part.trim());
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo < 1 || hi > 65535 || lo > hi) return undefined;
    out.push([lo, hi]);
  }
  return out;
}

/**
 * Parses `10.0.0.0/8`, `192.0.2.7` (a single host), `[2001:db8::]/32`, `2001:db8::/32`, and with `withPorts` a port
 * suffix: `10.0.0.0/8:5900-5999`, `[fd00::]/8:5900,5901`, `192.0.2.7:22`. Returns a problem string on bad input.
 */
export function parseAddressRange(text: string, withPorts: boolean): AddressRange | string {
  let t = text.trim();
  let portText: string | undefined;
  if (t.startsWith('[')) {
    const end = t.indexOf(']');
    if (end < 0) return `'${text}' has an unclosed [`;
    const rest = t.slice(end + 1);
    const m = /^(\/\d{1,3})?(?::(.+))?$/.exec(rest);
    if (!m) return `'${text}' is not CIDR[:ports]`;
    portText = m[2];
    t = t.slice(1, end) + (m[1] ?? '');
  } else if (!t.includes('::') && (t.match(/:/g) ?? []).length === 1) {
    // IPv4 (or IPv4/len) with a port suffix. Unbracketed IPv6 never carries ports.
    const colon = t.indexOf(':');
    portText = t.slice(colon + 1);
    t = t.slice(0, colon);
  }
  if (portText !== undefined && !withPorts) return `'${text}' has a port; give an address or CIDR only`;
  const slash = t.indexOf('/');
  const addr = slash < 0 ? t : t.slice(0, slash);
  const parsed = addressBytes(addr);
  if (!parsed || addr.includes('%')) return `'${text}' is not an IP address or CIDR (e.g. 10.0.0.0/8, 2001:db8::/32)`;
  const max = parsed.family === 4 ? 32 : 128;
  // A mapped IPv6 range (::ffff:10.0.0.0/104) is folded to IPv4, its prefix shortened by the 96 mapped bits.
  const mappedShift = parsed.family === 4 && isIP(addr) === 6 ? 96 : 0;
  let prefix = max;
  if (slash >= 0) {
    const p = t.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) - mappedShift > max || Number(p) < mappedShift) return `'${text}' has a bad prefix length (0-${max})`;
    prefix = Number(p) - mappedShift;
  }
  let ports: [number, number][] | undefined;
  if (portText !== undefined) {
    ports = parsePorts(portText);
    if (!ports) return `'${text}' has bad ports; write e.g. :5900, :5900-5999 or :5900,5901`;
  }
  // Normalise: host bits cleared, so matching compares prefixes only.
  const bytes = parsed.bytes.map((b, i) => {
    const bitsHere = Math.max(0, Math.min(8, prefix - i * 8));
    return b & ((0xff << (8 - bitsHere)) & 0xff);
  });
  return { family: parsed.family, bytes, prefix, ports, text: text.trim() };
}

function prefixMatches(range: AddressRange, bytes: readonly number[]): boolean {
  for (let i = 0; i * 8 < range.prefix; i++) {
    const bitsHere = Math.min(8, range.prefix - i * 8);
    const mask = (0xff << (8 - bitsHere)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== range.bytes[i]) return false;
  }
  return true;
}

/** An address already turned into bytes by {@link addressBytes}: parse once, match against many ranges. */
export type ParsedAddress = ReturnType<typeof addressBytes>;

/** Whether `address` (and, if given, `port`) falls in `range`. A non-IP address matches nothing. */
export function inRange(range: AddressRange, address: string | ParsedAddress, port?: number): boolean {
  const a = typeof address === 'string' ? addressBytes(address) : address;
  if (!a || a.family !== range.family || !prefixMatches(range, a.bytes)) return false;
  if (port === undefined || range.ports === undefined) return true;
  return range.ports.some(([lo, hi]) => port >= lo && port <= hi);
}

/** Whether `address` is in any of `ranges`. */
export function inAnyRange(ranges: readonly AddressRange[], address: string, port?: number): boolean {
  return ranges.some((r) => inRange(r, address, port));
}

/** Whether every address of `inner` lies inside `outer` (ports ignored). */
export function rangeWithin(inner: AddressRange, outer: AddressRange): boolean {
  return inner.family === outer.family && inner.prefix >= outer.prefix && prefixMatches(outer, inner.bytes);
}

/** Whether a bind host is reachable only from this machine: `localhost`, 127.0.0.0/8, `::1` (and its v4-mapped form). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice('::ffff:'.length) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}
