/** What the process says about where it listens: the start-up lines, and the one-line hint when it cannot listen. */
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/types.js';
import { errnoCode } from '../errors.js';
import type { LogFields } from '../log.js';
import { bracketHost } from '../net/address.js';
import { flag } from '../config/options/index.js';

/** One start-up log line (a `workers` worker sends them to the primary, which prints them once). */
export interface StartupLine {
  readonly msg: string;
  readonly fields: LogFields;
}

/** What the server reports once it listens. */
export interface ListeningFacts {
  readonly certificate: { fingerprint256: string; names: readonly string[]; validTo: string } | undefined;
  readonly addresses: readonly Pick<AddressInfo, 'address' | 'port'>[];
  /** Where it listens when there is no TCP address (unix socket, inetd). */
  readonly listening: string;
  readonly demo: boolean;
}

/** The listen address as the operator wrote it, for the hint when it cannot be used. */
export function listenWhere(listen: Config['listen'] | NonNullable<Config['admin']>['listen']): string {
  switch (listen.kind) {
    case 'unix':
      return `unix:${listen.path}`;
    case 'inetd':
      return 'inetd socket (fd 0)';
    default:
      return `${listen.host ?? '*'}:${listen.port}`;
  }
}

/** Why listening on `where` failed, with the fix. */
export function listenHint(err: unknown, where: string): string {
  switch (errnoCode(err)) {
    case 'EADDRINUSE':
      return `cannot listen on ${where}: the address is in use; stop the other program or choose another port`;
    case 'EACCES':
      return `cannot listen on ${where}: permission denied; use a port above 1023 or grant CAP_NET_BIND_SERVICE`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: no interface has that address; check the listen address`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot listen on ${where}: the host name does not resolve`;
    default:
      return `cannot listen on ${where}: ${(err as Error).message}`;
  }
}

/** The certificate line, then one "listening" line per bound address (with the URLs to open). */
export function startupLines(facts: ListeningFacts): StartupLine[] {
  const lines: StartupLine[] = [];
  const cert = facts.certificate;
  if (cert)
    lines.push({
      msg: 'certificate',
      fields: { sha256: cert.fingerprint256, names: cert.names.join(','), valid_to: cert.validTo },
    });
  if (facts.addresses.length === 0) lines.push({ msg: 'listening', fields: { address: facts.listening } });
  for (const a of facts.addresses) {
    const host = bracketHost(a.address);
    const shown = a.address === '::' || a.address === '0.0.0.0' ? 'localhost' : host;
    lines.push({
      msg: 'listening',
      fields: {
        address: `${host}:${a.port}`,
        ws: `ws://${shown}:${a.port}/websockify`,
        wss: cert ? `wss://${shown}:${a.port}/websockify` : 'off (no certificate)',
        page: `http://${shown}:${a.port}/`,
        target: facts.demo ? `built-in echo (${flag('demo')})` : undefined,
      },
    });
  }
  return lines;
}
