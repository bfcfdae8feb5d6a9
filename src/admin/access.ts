/**
 * Who may use the admin listener. The admin API is for programs (kubelet probes, Prometheus, curl, scripts), never for
 * web pages: a browser can be made to send requests to it by any page the operator visits (cross-site requests, and
 * DNS rebinding against a loopback address), so those are refused here before any route runs. Pure functions.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isIpLiteral } from '../net/address.js';
import { flag } from '../config/options/index.js';

/** A refusal: status, stable reason code and the one-line answer. */
export interface AdminRefusal {
  readonly status: number;
  readonly reason: 'ADMIN_BROWSER_REFUSED' | 'ADMIN_HOST_NOT_ALLOWED';
  readonly message: string;
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * A request that changes something (any method but GET/HEAD) and comes from a browser. Browsers send `Origin` on
 * every cross-origin request and on same-origin POST/DELETE, and `Sec-Fetch-Site` on all requests (`none` only when
 * the user typed the address); programs send neither.
 */
function fromBrowser(method: string, headers: IncomingHttpHeaders): boolean {
  if (SAFE_METHODS.has(method)) return false;
  const site = headers['sec-fetch-site'];
  return headers.origin !== undefined || (site !== undefined && site !== 'none');
}

/** The host part of a Host header (`[::1]:9090` → `::1`, `localhost:9090` → `localhost`). */
function hostOf(header: string): string {
  const m = /^\[([^\]]*)\](?::\d*)?$/.exec(header);
  if (m) return m[1] ?? '';
  return header.replace(/:\d*$/, '');
}

/**
 * Without a token, a TCP admin listener is loopback-only, and only names that cannot be rebound are accepted as
 * Host: IP literals and `localhost`. A page on `rebind.attacker.example` resolving to 127.0.0.1 gets 421.
 */
function rebindable(headers: IncomingHttpHeaders): boolean {
  const host = hostOf((headers.host ?? '').trim().toLowerCase());
  return host !== '' && host !== 'localhost' && !isIpLiteral(host);
}

/** Why the admin listener refuses this request before routing, or undefined. `tcp`: not a unix socket. */
export function adminRefusal(
  method: string,
  headers: IncomingHttpHeaders,
  hasToken: boolean,
  tcp: boolean,
): AdminRefusal | undefined {
  if (fromBrowser(method, headers)) {
    return {
      status: 403,
      reason: 'ADMIN_BROWSER_REFUSED',
      message:
        'the admin API does not take changes from web browsers (Origin or Sec-Fetch-Site present); use curl or a script',
    };
  }
  if (!hasToken && tcp && rebindable(headers)) {
    return {
      status: 421,
      reason: 'ADMIN_HOST_NOT_ALLOWED',
      message: `without ${flag('adminTokenFile')} the admin listener answers only Host: localhost or an IP address`,
    };
  }
  return undefined;
}
