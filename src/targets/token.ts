/**
 * Where the token comes from (pure): `?token=` on any path (websockify; noVNC puts it inside its `path` setting), the
 * `Host` header without its port (`hostToken`, `[v6]` safe), or the last path segment (`tokenFromPath`).
 */

/** Which part of the request carries the token. */
export type TokenFrom = 'query' | 'host' | 'path';

function hostnameOf(host: string): string | undefined {
  const h = host.trim();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 1 ? h.slice(1, end) : undefined;
  }
  const colon = h.indexOf(':');
  const name = colon < 0 ? h : h.slice(0, colon);
  return name.length > 0 ? name : undefined;
}

/** The token of a request, or undefined when it carries none. Never throws. */
export function extractToken(url: string, host: string | undefined, from: TokenFrom): string | undefined {
  if (from === 'host') return host === undefined ? undefined : hostnameOf(host);
  const q = url.indexOf('?');
  if (from === 'query') {
    if (q < 0) return undefined;
    const token = new URLSearchParams(url.slice(q + 1)).get('token')?.replace(/\n+$/, '');
    return token ? token : undefined;
  }
  const path = q < 0 ? url : url.slice(0, q);
  const last = path
    .split('/')
    .filter((s) => s.length > 0)
    .pop();
  if (last === undefined) return undefined;
  try {
    return decodeURIComponent(last) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * A request path as it may be logged: with `tokenFromPath` the last path segment is the token, so it becomes
 * `***` (query parameters are the logger's job). Unchanged for the other token sources.
 */
export function pathForLog(url: string, from: TokenFrom): string {
  if (from !== 'path') return url;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const last = /[^/]+(\/*)$/.exec(path);
  if (!last) return url;
  return `${path.slice(0, last.index)}***${last[1] ?? ''}${q < 0 ? '' : url.slice(q)}`;
}

/**
 * A `Host` header as it may be logged: with `hostToken` the host name is the token, so it becomes `***` (the port
 * stays). Unchanged for the other token sources.
 */
export function hostForLog(host: string, from: TokenFrom): string {
  if (from !== 'host') return host;
  const name = hostnameOf(host);
  if (name === undefined) return host === '' ? host : '***';
  const h = host.trim();
  const rest = h.startsWith('[') ? h.slice(h.indexOf(']') + 1) : h.slice(name.length);
  return `***${rest}`;
}

/** A short, stable, keyed name for a token in logs (tokens themselves are never logged); see token-hash.ts. */
export { tokenHash } from './token-hash.js';
