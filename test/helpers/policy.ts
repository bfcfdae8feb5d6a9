// Address ranges for policy tests, from their command-line text.
import { parseAddressRange, type AddressRange } from '../../src/policy/cidr.js';

/** The range `t` names (`--allow-target` / `--trusted-proxy` syntax); throws on text that is not one. */
export const range = (t: string, ports = true): AddressRange => {
  const r = parseAddressRange(t, ports);
  if (typeof r === 'string') throw new Error(r);
  return r;
};
