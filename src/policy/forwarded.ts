/**
 * The real client address of a request that came through trusted proxies (pure). `Forwarded` (RFC 7239) is read if
 * present, else `X-Forwarded-For`; either is believed only as far as the hops are trusted: walking from the direct
 * peer leftwards, the first address that is not a trusted proxy is the client (the "rightmost untrusted" rule). A
 * client can prepend anything it likes to these headers, so nothing left of that address is ever used.
 */
import { foldMapped, parseIp } from '../net/address.js';
import { inAnyRange, type AddressRange } from './cidr.js';

/** A client address with its port (0 when the header did not say). */
export interface ClientAddress {
  readonly address: string;
  readonly port: number;
}

/** One hop as a header names it; `undefined` for `unknown`, obfuscated (`_x`) or malformed nodes. */
type Hop = ClientAddress | undefined;

function parseNode(raw: string): Hop {
  let v = raw.trim();
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
  let port = 0;
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    if (end < 0) return undefined;
    const rest = v.slice(end + 1);
    if (rest.startsWith(':') && /^\d{1,5}$/.test(rest.slice(1))) port = Number(rest.slice(1));
    else if (rest !== '') return undefined;
    v = v.slice(1, end);
  } else if (/^\d+\.\d+\.\d+\.\d+:\d{1,5}$/.test(v)) {
    const colon = v.lastIndexOf(':');
    port = Number(v.slice(colon + 1));
    v = v.slice(0, colon);
  }
  if (port > 65535 || !parseIp(v)) return undefined;
  return { address: foldMapped(v.toLowerCase()), port };
}

/** The `for=` nodes of `Forwarded` header values, in order (leftmost = farthest from us). */
export function forwardedFor(values: readonly string[]): Hop[] {
  const hops: Hop[] = [];
  for (const element of values.join(',').split(',')) {
    if (element.trim() === '') continue;
    let hop: Hop;
    let seen = false;
    for (const pair of element.split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
      seen = true;
      hop = parseNode(pair.slice(eq + 1));
    }
    // An element without for= says nothing about the address; keep its slot so the walk stops there.
    hops.push(seen ? hop : undefined);
  }
  return hops;
}

/** The entries of `X-Forwarded-For` header values, in order. */
export function xForwardedFor(values: readonly string[]): Hop[] {
  return values
    .join(',')
    .split(',')
    .filter((s) => s.trim() !== '')
    .map(parseNode);
}

/**
 * Applies the rightmost-untrusted rule. `peer` is the direct peer (already known to be trusted by the caller, or
 * not: then the headers are ignored and `peer` is the answer). An unusable hop stops the walk at the last trusted
 * address seen, which is then the best the proxy knows.
 */
export function clientFromHeaders(
  peer: ClientAddress,
  headers: { forwarded?: readonly string[] | undefined; xForwardedFor?: readonly string[] | undefined },
  trusted: readonly AddressRange[],
): ClientAddress {
  if (!inAnyRange(trusted, peer.address)) return peer;
  const hops =
    headers.forwarded && headers.forwarded.length > 0
      ? forwardedFor(headers.forwarded)
      : xForwardedFor(headers.xForwardedFor ?? []);
  let current = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i];
    if (hop === undefined) return current;
    current = hop;
    if (!inAnyRange(trusted, hop.address)) return hop;
  }
  return current;
}
