/** TLS termination: the certificate and key files, whether to generate one, and the client and protocol settings. */
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { DEFAULTS, type CliArgs } from './options/index.js';
import { resolveClientCert } from './client-cert.js';
import { flag } from './options/index.js';
import type { ConfigProbes } from './probes.js';
import { resolveTlsOptions } from './tls-options.js';
import type { TlsConfig } from './types.js';

/** The TLS section; `stateDir` is where a generated certificate goes. */
export function resolveTls(args: CliArgs, cwd: string, stateDir: string, probes: ConfigProbes): TlsConfig {
  const certGiven = args.cert !== undefined;
  const certFile = resolve(cwd, args.cert ?? DEFAULTS.cert);
  const keyFile = args.key === undefined ? undefined : resolve(cwd, args.key);
  const cert = flag('cert');
  if (keyFile !== undefined && !probes.isFile(keyFile)) {
    const key = flag('key');
    throw new ConfigError(
      key,
      `${key}: '${keyFile}' is not a readable file; give the PEM private key that matches ${cert}`,
    );
  }
  // A certificate given on purpose must exist; without one, self.pem is used if present, else one is generated.
  if (certGiven && !probes.isFile(certFile)) {
    throw new ConfigError(
      cert,
      `${cert}: '${certFile}' not found; give an existing PEM file, make one with scripts/make-self-signed.sh, or drop ${cert} to use a generated one`,
    );
  }
  const generateIfMissing = !certGiven && !probes.isFile(certFile);
  const clientCert = resolveClientCert(args, cwd, probes);
  const options = resolveTlsOptions(args, cwd, probes);
  return {
    certFile,
    certGiven,
    keyFile,
    keyPassword: args.keyPassword,
    sslOnly: args.sslOnly,
    generateIfMissing,
    stateDir,
    ...(clientCert === undefined ? { options } : { clientCert, options }),
  };
}
