/** The admin listener: its address and bearer token, never open to the network without one. */
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { isLoopbackHost } from '../net/address.js';
import type { CliArgs } from './options/index.js';
import { parseAdminListen } from './addresses.js';
import { flag } from './options/index.js';
import type { ConfigProbes } from './probes.js';
import { ADMIN_RULES, checkRules } from './rules.js';
import type { AdminConfig } from './types.js';

/** The bearer token: one word from the file. */
function readToken(file: string, probes: ConfigProbes): string {
  const name = flag('adminTokenFile');
  let token: string;
  try {
    token = probes.readText(file).trim();
  } catch (err) {
    throw new ConfigError(
      name,
      `${name}: cannot read '${file}' (${(err as NodeJS.ErrnoException).code ?? 'error'}); give a file holding the bearer token`,
    );
  }
  if (token === '' || /\s/.test(token)) {
    throw new ConfigError(name, `${name}: '${file}' must hold one token (no spaces), e.g. from: openssl rand -hex 32`);
  }
  return token;
}

export function resolveAdmin(args: CliArgs, cwd: string, probes: ConfigProbes): AdminConfig | undefined {
  checkRules(ADMIN_RULES, args);
  if (args.adminListen === undefined) return undefined;
  const listen = parseAdminListen(args.adminListen, cwd);
  const tokenFile = args.adminTokenFile === undefined ? undefined : resolve(cwd, args.adminTokenFile);
  const token = tokenFile === undefined ? undefined : readToken(tokenFile, probes);
  if (listen.kind === 'tcp' && token === undefined && !isLoopbackHost(listen.host)) {
    // Sessions, metrics and reloads would be open to the network; the probes stay open with a token (README).
    throw new ConfigError(
      flag('adminTokenFile'),
      `${flag('adminListen')} ${listen.host}:${listen.port} is reachable from other machines: add ${flag('adminTokenFile')} FILE (make one with: openssl rand -hex 32 > FILE), or listen on 127.0.0.1 or unix:/path`,
    );
  }
  return { listen, token, ...(tokenFile === undefined ? {} : { tokenFile }) };
}
