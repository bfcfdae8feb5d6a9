/**
 * Where sessions may go (pure), checked on resolved addresses so a name cannot smuggle a forbidden address past the
 * rule (DNS rebinding, `localhost`, a token source pointing at the cloud metadata service). Without `allowTarget`
 * every address is allowed except link-local and cloud metadata ranges; with it, only listed ranges (and ports). A
 * metadata/link-local address is allowed only by an entry that lies inside such a range itself, so
 * `allowTarget` 0.0.0.0/0` does not open 169.254.169.254 by accident.
 */
import { parseIp } from '../net/address.js';
import { inRange, parseAddressRange, rangeWithin, type AddressRange } from './cidr.js';
import { flag } from '../config/options/index.js';

/** Link-local and cloud metadata addresses, refused unless listed explicitly (tls-and-security.md, "Open proxy"). */
export const DEFAULT_DENIED_TARGETS: readonly string[] = [
  '169.254.0.0/16', // IPv4 link-local: AWS/GCP/Azure/OpenStack metadata at 169.254.169.254
  'fe80::/10', // IPv6 link-local
  'fd00:ec2::254/128', // AWS IMDS over IPv6
  '100.100.100.200/32', // Alibaba Cloud metadata
  '168.63.129.16/32', // Azure WireServer
  '0.0.0.0/8', // "this network": connecting to 0.0.0.0 reaches the local host
  '::/128', // unspecified, same
];

const DENIED: readonly AddressRange[] = DEFAULT_DENIED_TARGETS.map((t) => {
  const r = parseAddressRange(t, false);
  if (typeof r === 'string') throw new Error(r);
  return r;
});

/** The decision for one resolved address. */
export type TargetDecision = { ok: true } | { ok: false; why: 'link-local or metadata address' | `not in ${string}` };

/** Decides whether a session may connect to `address:port`. `allow` empty = no allowlist (only the default denials). */
export function checkTargetAddress(address: string, port: number, allow: readonly AddressRange[]): TargetDecision {
  const parsed = parseIp(address); // once, not once per range: this runs on every connect
  if (!parsed) return allow.length === 0 ? { ok: true } : { ok: false, why: `not in ${flag('allowTarget')}` };
  const denied = DENIED.find((d) => inRange(d, parsed));
  if (denied) {
    const listed = allow.some((a) => inRange(a, parsed, port) && rangeWithin(a, denied));
    return listed ? { ok: true } : { ok: false, why: 'link-local or metadata address' };
  }
  if (allow.length === 0) return { ok: true };
  return allow.some((a) => inRange(a, parsed, port))
    ? { ok: true }
    : { ok: false, why: `not in ${flag('allowTarget')}` };
}
