/**
 * Pure parsers for the addresses and URLs options take: ports, the listen and target positionals, the admin address,
 * origins and the HTTP upstream. Each throws a one-line ConfigError naming the option.
 */
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { ipFamily, splitHostPort } from '../net/address.js';
import { flag } from './options/index.js';
import type { AdminConfig, ListenAddress, Target } from './types.js';

/** A port number; 0 (a free port) only where `allowZero`. */
export function parsePort(text: string, name: string, allowZero: boolean): number {
  if (!/^\d{1,5}$/.test(text)) throw new ConfigError(name, `${name}: '${text}' is not a port number (1-65535)`);
  const port = Number(text);
  if (port > 65535 || (port === 0 && !allowZero)) {
    throw new ConfigError(name, `${name}: port ${port} is out of range (1-65535)`);
  }
  return port;
}

/** Parses the `[source_addr:]source_port` positional. Port 0 picks a free port (tests, scripts). */
export function parseListenAddress(text: string): ListenAddress {
  const { host, port } = splitHostPort(text);
  if (host !== undefined && host.length === 0) {
    throw new ConfigError(
      'source_port',
      `listen address '${text}' has an empty host; give a port alone to listen everywhere`,
    );
  }
  if (host !== undefined && host.includes(':') && ipFamily(host) !== 6) {
    throw new ConfigError('source_port', `listen address '${text}': '${host}' is not an IPv6 address`);
  }
  return { kind: 'tcp', host, port: parsePort(port, 'source_port', true) };
}

/** Parses the `target_addr:target_port` positional, or `unix:/path` for a unix socket. */
export function parseTargetAddress(text: string): Target {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (!path.startsWith('/'))
      throw new ConfigError('target', `target '${text}': give an absolute socket path, e.g. unix:/run/vnc.sock`);
    return { kind: 'unix', path };
  }
  const { host, port } = splitHostPort(text);
  if (host === undefined || host.length === 0) {
    throw new ConfigError('target', `target '${text}' needs a host and a port, e.g. localhost:5900`);
  }
  if (host.includes(':') && ipFamily(host) !== 6) {
    throw new ConfigError('target', `target '${text}': '${host}' is not an IPv6 address (write [2001:db8::1]:5900)`);
  }
  return { kind: 'tcp', host, port: parsePort(port, 'target', false) };
}

/**
 * Parses the admin address: `unix:/path`, `host:port`, `[v6]:port`, or a port alone (then loopback only: the admin
 * routes show sessions and may close them, so they are never exposed on every interface by default).
 */
export function parseAdminListen(text: string, cwd: string): AdminConfig['listen'] {
  const name = flag('adminListen');
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (path === '')
      throw new ConfigError(name, `${name}: give a socket path after 'unix:', e.g. unix:/run/wsproxy/admin.sock`);
    return { kind: 'unix', path: resolve(cwd, path) };
  }
  const { host, port } = splitHostPort(text);
  if (host !== undefined && (host === '' || (host.includes(':') && ipFamily(host) !== 6))) {
    throw new ConfigError(name, `${name}: '${text}' is not host:port, [v6]:port, a port or unix:/path`);
  }
  return { kind: 'tcp', host: host ?? '127.0.0.1', port: parsePort(port, name, true) };
}

/** Normalises an allowed-origin entry to `scheme://host[:port]` (default ports dropped), or `*`/`null`. */
export function normaliseOrigin(text: string): string {
  const t = text.trim();
  if (t === '*' || t === 'null') return t;
  const name = flag('allowOrigin');
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    throw new ConfigError(name, `${name}: '${text}' is not an origin; write e.g. https://example.com:8443`);
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    throw new ConfigError(name, `${name}: '${text}' has a path or query; give only scheme://host[:port]`);
  }
  return url.origin.toLowerCase();
}

/** Validates the HTTP upstream: an http(s) URL, optional path prefix, no credentials, query or fragment. */
export function parseHttpUpstream(text: string): string {
  const name = flag('httpUpstream');
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    // The value is not echoed: a mistyped URL may still carry a password.
    const got = url ? `the scheme '${url.protocol}'` : 'a value that is not a URL';
    throw new ConfigError(name, `${name}: got ${got}; give an http:// or https:// URL such as http://127.0.0.1:8080`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError(
      name,
      `${name}: the URL must not carry a user or password (they would be sent for every client); let the application authenticate`,
    );
  }
  if (url.search !== '' || url.hash !== '') {
    throw new ConfigError(
      name,
      `${name}: '${url.origin}${url.pathname}' must not have a query or #fragment; give scheme://host[:port][/prefix]`,
    );
  }
  return url.href;
}
