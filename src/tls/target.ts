/**
 * Reads the `sslTarget` files once at start into what relay/connect.ts dials with, and checks them by building a
 * client context, so a bad CA file or a key that does not match its certificate is a start-up error (one line, exit
 * 2), not a 502 on every connection.
 */
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import type { TargetTlsConfig } from '../config/types.js';
import { SetupError } from '../errors.js';
import type { TargetTlsOptions } from '../relay/connect.js';
import { flag } from '../config/options/index.js';

/** Loads and checks the target TLS files. Throws a SetupError naming the flag. */
export async function loadTargetTls(config: TargetTlsConfig): Promise<TargetTlsOptions> {
  const read = async (flag: string, file: string | undefined): Promise<Buffer | undefined> => {
    if (file === undefined) return undefined;
    try {
      return await readFile(file);
    } catch (err) {
      throw new SetupError(
        'TARGET_TLS_UNUSABLE',
        `${flag}: cannot read '${file}' (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  };
  const ca = await read(flag('targetCa'), config.caFile);
  const cert = await read(flag('targetCert'), config.certFile);
  const key = (await read(flag('targetKey'), config.keyFile)) ?? cert;
  if (ca !== undefined) {
    try {
      createSecureContext({ ca });
    } catch {
      throw new SetupError(
        'TARGET_TLS_UNUSABLE',
        `${flag('targetCa')}: '${config.caFile}' holds no usable PEM certificate`,
      );
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new SetupError(
        'TARGET_TLS_UNUSABLE',
        `${flag('targetCa')}: '${config.caFile}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
      );
    }
  }
  if (cert !== undefined) {
    try {
      createSecureContext({ cert, key });
    } catch {
      throw new SetupError(
        'TARGET_TLS_UNUSABLE',
        `${flag('targetCert')}: '${config.certFile}' and its key do not form a usable pair (put the key in the file or give ${flag('targetKey')})`,
      );
    }
  }
  return { verify: config.verify === 'required', ca, servername: config.servername, cert, key };
}
