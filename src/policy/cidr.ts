/**
 * Address ranges (pure): parsing `CIDR[:ports]` entries once at start and matching addresses against them. Used for
 * `trustedProxy` (who may tell us the real client address) and `allowTarget` (where sessions may go, checked
 * after DNS resolution). The entry syntax (brackets, port sets, messages) is here; the addresses and CIDR matching are
 * net/address.ts, which folds IPv4-mapped IPv6 (`::ffff:10.0.0.1`) so a mapped spelling cannot slip past an IPv4 rule.
 */
import { cidrContains, cidrWithin, parseCidr, parseIp, type Cidr, type Ip } from '../net/address.js';

// Kept here for the callers and tests that import it from policy/ (deploy checks, admin access).
export { isLoopbackHost } from '../net/address.js';

/** One address range, with an optional port set (`undefined` = every port). */
export interface AddressRange {
  /** The network (host bits cleared) and prefix; IPv4-mapped ranges are stored as IPv4. */
  readonly cidr: Cidr;
  /** Inclusive port ranges; undefined means every port. */
  readonly ports?: readonly (readonly [number, number])[] | undefined;
  /** The entry as written, for logs and messages. */
  readonly text: string;
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
  const cidr = parseCidr(t);
  if ('problem' in cidr) {
    return cidr.problem === 'address'
      ? `'${text}' is not an IP address or CIDR (e.g. 10.0.0.0/8, 2001:db8::/32)`
      : `'${text}' has a bad prefix length (0-${cidr.max})`;
  }
  let ports: [number, number][] | undefined;
  if (portText !== undefined) {
    ports = parsePorts(portText);
    if (!ports) return `'${text}' has bad ports; write e.g. :5900, :5900-5999 or :5900,5901`;
  }
  return { cidr, ports, text: text.trim() };
}

/** An address already parsed by {@link parseIp}: parse once, match against many ranges. */
export type ParsedAddress = Ip | undefined;

/** Whether `address` (and, if given, `port`) falls in `range`. A non-IP address matches nothing. */
export function inRange(range: AddressRange, address: string | ParsedAddress, port?: number): boolean {
  const a = typeof address === 'string' ? parseIp(address) : address;
  if (!a || !cidrContains(range.cidr, a)) return false;
  if (port === undefined || range.ports === undefined) return true;
  return range.ports.some(([lo, hi]) => port >= lo && port <= hi);
}

/** Whether `address` is in any of `ranges`. */
export function inAnyRange(ranges: readonly AddressRange[], address: string, port?: number): boolean {
  return ranges.some((r) => inRange(r, address, port));
}

/** Whether every address of `inner` lies inside `outer` (ports ignored). */
export function rangeWithin(inner: AddressRange, outer: AddressRange): boolean {
  return cidrWithin(inner.cidr, outer.cidr);
}
