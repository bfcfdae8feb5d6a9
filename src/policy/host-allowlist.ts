/**
 * The `Host` allowlist (DNS rebinding defence, issue #12 finding 8). With `allowedHost` names, only those pass;
 * `allowedHost` any` turns the check off; without the flag an automatic list applies (like webpack-dev-server's
 * `allowedHosts: 'auto'`): IP literals, `localhost` and `*.localhost`, the listen host, the machine's host names and
 * the DNS names of the certificate in use. A rebinding page's own name (`rebind.attacker.example`) is none of these.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { bracketHost, isIpLiteral } from '../net/address.js';

/** What the automatic list is made of; `certNames` is asked per request, so a TLS reload is followed at once. */
export interface AutoHostSources {
  /** The listen host as given (a name or an address), if any. */
  readonly listenHost?: string | undefined;
  /** Names of this machine ({@link machineHostNames}). */
  readonly machineNames: readonly string[];
  /** DNS names of the certificate in use (subjectAltName DNS entries, maybe `*.example.com`). */
  readonly certNames: () => readonly string[];
}

/** How Host headers are judged. */
export type HostMode =
  { kind: 'any' } | { kind: 'list'; names: readonly string[] } | { kind: 'auto'; sources: AutoHostSources };

/** The host name of a `Host` header: lowercase, without port, brackets or trailing dot; undefined if there is none. */
export function hostNameOf(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end < 0) return undefined;
    h = h.slice(1, end);
  } else if ((h.match(/:/g) ?? []).length === 1) {
    h = h.slice(0, h.indexOf(':'));
  }
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h === '' ? undefined : h;
}

/** Whether `host` (a Host header) passes under `mode`. */
export function isHostAllowedBy(host: string | undefined, mode: HostMode): boolean {
  if (mode.kind === 'any') return true;
  const name = hostNameOf(host);
  if (name === undefined) return false;
  if (mode.kind === 'list') return mode.names.includes(name);
  return isAutoHost(name, mode.sources);
}

function isAutoHost(name: string, s: AutoHostSources): boolean {
  if (isIpLiteral(name) || name === 'localhost' || name.endsWith('.localhost')) return true;
  const listen = s.listenHost === undefined ? undefined : hostNameOf(bracketHost(s.listenHost));
  if (name === listen) return true;
  if (s.machineNames.includes(name)) return true;
  return s.certNames().some((c) => matchesCertName(name, c.toLowerCase()));
}

/** RFC 6125 §6.4.3 in its common form: a wildcard stands for exactly one left-most label. */
function matchesCertName(name: string, certName: string): boolean {
  if (!certName.startsWith('*.')) return name === certName;
  const dot = name.indexOf('.');
  return dot > 0 && name.slice(dot + 1) === certName.slice(2);
}

/**
 * This machine's names, read once (no DNS lookups): `os.hostname()`, /etc/hostname, and every name on the
 * /etc/hosts lines that carry one of those (where the FQDN usually sits, e.g. `127.0.1.1 vm.example.lan vm`).
 */
export function machineHostNames(files: { hostname?: string; hosts?: string } = {}): string[] {
  const names = new Set<string>([hostname().toLowerCase()]);
  const fromFile = readText(files.hostname ?? '/etc/hostname')
    .trim()
    .toLowerCase();
  if (fromFile !== '' && !/\s/.test(fromFile)) names.add(fromFile);
  for (const line of readText(files.hosts ?? '/etc/hosts').split('\n')) {
    const fields = (line.split('#')[0] ?? '').trim().toLowerCase().split(/\s+/).slice(1);
    const short = [...names].map((n) => n.split('.')[0]);
    if (fields.some((f) => names.has(f) || short.includes(f))) for (const f of fields) names.add(f);
  }
  names.delete('');
  return [...names].map((n) => n.replace(/\.$/, ''));
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(0, 1 << 20);
  } catch {
    return '';
  }
}

/** The parts of `Config` the mode depends on (structural: config/ imports this directory). */
export interface HostConfig {
  readonly listen: { readonly kind: string; readonly host?: string | undefined };
  readonly policy?: { readonly allowedHosts: readonly string[] } | undefined;
  readonly targets: { readonly kind: string; readonly from?: string };
}

/**
 * The mode for a configuration: `allowedHost` any` is off, other names are the list, none is automatic. With
 * `hostToken` the Host is the token itself (any name a token source knows), so there is no automatic list: a
 * rebinding page would need a valid token as its host name, and an unknown one is refused by the token source.
 */
export function hostModeOf(
  config: HostConfig,
  certNames: () => readonly string[],
  machineNames: readonly string[],
): HostMode {
  const names = config.policy?.allowedHosts ?? [];
  if (names.includes('any')) return { kind: 'any' };
  if (names.length > 0) return { kind: 'list', names };
  if (config.targets.kind === 'token' && config.targets.from === 'host') return { kind: 'any' };
  const listenHost = config.listen.kind === 'tcp' ? config.listen.host : undefined;
  return { kind: 'auto', sources: { listenHost, machineNames, certNames } };
}
