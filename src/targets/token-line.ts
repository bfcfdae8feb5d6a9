/**
 * websockify's token file format (pure): `token: host:port`, `token: [v6]:port` or websockify's unbracketed
 * `token: 2001:db8::1:5900`, `token: unix_socket:/path`; `#` comments and blank lines are skipped. The separator is
 * the first colon followed by white space, as websockify splits (`re.split(r':\s', line)`).
 */
import { ipFamily, splitHostPort } from '../net/address.js';
import type { Target } from './types.js';

/** One parsed line: an entry, nothing (blank/comment), or what is wrong with it (never echoing the token). */
export type TokenLine =
  { kind: 'entry'; token: string; target: Target } | { kind: 'skip' } | { kind: 'error'; problem: string };

/** Parses the value part (`host:port` or `unix_socket:/path`) of a token entry. */
export function parseTargetValue(value: string): Target | string {
  const v = value.trim();
  if (v.startsWith('unix_socket:')) {
    const path = v.slice('unix_socket:'.length).trim();
    return path.startsWith('/') ? { kind: 'unix', path } : 'unix_socket needs an absolute path';
  }
  const { host, port } = splitHostPort(v);
  if (v.startsWith('[') && host === v) return "expected '[ipv6]:port'";
  if (host === undefined || host === '') return "expected 'host:port'";
  if (host.includes(':') && ipFamily(host) !== 6) return `'${host}' is not an IPv6 address`;
  if (/\s/.test(host)) return 'the host contains white space';
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return `'${port}' is not a port (1-65535)`;
  return { kind: 'tcp', host, port: Number(port) };
}

/** Parses one line of a token file. */
export function parseTokenLine(line: string): TokenLine {
  const text = line.trim();
  if (text === '' || text.startsWith('#')) return { kind: 'skip' };
  const sep = /:\s+/.exec(text);
  if (!sep) return { kind: 'error', problem: "expected 'token: host:port' (a space after the first colon)" };
  const token = text.slice(0, sep.index).trim();
  if (token === '') return { kind: 'error', problem: 'the token is empty' };
  const target = parseTargetValue(text.slice(sep.index + sep[0].length));
  if (typeof target === 'string') return { kind: 'error', problem: target };
  return { kind: 'entry', token, target };
}
