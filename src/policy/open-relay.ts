/**
 * An open relay (issue #12 finding 19): a listener on a non-loopback address that forwards every client to one fixed
 * target with no token, no auth plugin and no required client certificate lets anyone who reaches the port reach
 * the target. wsproxy starts anyway (websockify does, and noVNC's launcher relies on it) but says so once.
 */
import type { Config } from '../config/types.js';
import { hostPort, isLoopbackHost } from '../net/address.js';
import { flag } from '../config/options/index.js';

/** Loopback, or a `*.localhost` name (RFC 6761: resolves to loopback only). */
function isLoopback(host: string): boolean {
  return isLoopbackHost(host) || host.replace(/\]$/, '').toLowerCase().endsWith('.localhost');
}

function targetText(config: Config): string {
  if (config.targets.kind !== 'fixed') return '';
  const t = config.targets.target;
  return t.kind === 'unix' ? `unix:${t.path}` : hostPort(t.host, t.port);
}

/** The warning for `config`, or undefined when it is not an open relay. */
export function openRelayWarning(config: Config): string | undefined {
  if (config.listen.kind !== 'tcp' || config.targets.kind !== 'fixed' || config.auth !== undefined) return undefined;
  const cc = config.tls.clientCert;
  if (cc?.mode === 'required' && !cc.allowPlain) return undefined;
  const host = config.listen.host;
  if (host !== undefined && isLoopback(host)) return undefined;
  const where = host === undefined ? `every interface, port ${config.listen.port}` : `${host}:${config.listen.port}`;
  return `open relay: anyone who reaches ${where} is relayed to ${targetText(config)} (no token, no ${flag('authPlugin')}, no ${flag('verifyClient')} required; ${flag('allowOrigin')} does not stop non-browser clients); use a token (${flag('tokenPlugin')}/${flag('tokenSource')}), ${flag('authPlugin')}, ${flag('verifyClient')} required, or listen on 127.0.0.1`;
}
