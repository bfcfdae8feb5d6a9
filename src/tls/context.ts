/**
 * TLS server settings: the Mozilla "Intermediate" profile set explicitly (Node's default cipher list also offers
 * static-RSA and CBC suites, which scanners flag), and loading of websockify-style PEM files (certificate and key in
 * one file, or `--key` separately, optionally encrypted).
 */
import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { TlsConfig } from '../config.js';

/**
 * Mozilla Server Side TLS 6.0, Intermediate: TLS 1.2 suites are ECDHE with AEAD only. TLS 1.3 suites are OpenSSL's
 * defaults (all three AEADs). Order is the client's (`honorCipherOrder: false`), as the guideline says.
 */
export const INTERMEDIATE_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** Key-exchange groups in preference order (Mozilla 6.0); the post-quantum hybrid first where OpenSSL has it. */
const WANTED_GROUPS = ['X25519MLKEM768', 'X25519', 'P-256', 'P-384'];
let supportedGroups: string | undefined;

/** The wanted groups the linked OpenSSL accepts, probed once (OpenSSL 3.0 has no ML-KEM; 3.5 does). */
export function ecdhCurves(): string {
  supportedGroups ??= WANTED_GROUPS.filter((group) => {
    try {
      createSecureContext({ ecdhCurve: group });
      return true;
    } catch {
      return false;
    }
  }).join(':');
  return supportedGroups;
}

/** Options shared by every TLS context wsproxy builds for its listener. */
export function profileOptions(): SecureContextOptions & { honorCipherOrder: boolean } {
  return {
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    ciphers: INTERMEDIATE_CIPHERS,
    ecdhCurve: ecdhCurves(),
    honorCipherOrder: false,
  };
}

/** A loaded certificate: what the TLS server needs, and facts for the built-in page. */
export interface LoadedCertificate {
  readonly options: SecureContextOptions;
  readonly fingerprint256: string;
  readonly subject: string;
  readonly names: readonly string[];
  readonly validTo: string;
}

/** Why a certificate could not be loaded; the message names the file and the fix, never the key password. */
export class CertificateError extends Error {
  constructor(
    message: string,
    readonly missing: boolean,
  ) {
    super(message);
    this.name = 'CertificateError';
  }
}

function subjectAltNames(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .map((s) => s.replace(/^(DNS|IP Address):/, ''))
    .filter((s) => s.length > 0);
}

/**
 * Reads the certificate (and key) files and checks they form a usable pair by building a context once. Throws
 * `CertificateError`.
 */
export async function loadCertificate(tls: Pick<TlsConfig, 'certFile' | 'keyFile' | 'keyPassword'>): Promise<LoadedCertificate> {
  let certPem: Buffer;
  let keyPem: Buffer;
  try {
    certPem = await readFile(tls.certFile);
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new CertificateError(
      missing
        ? `certificate file ${tls.certFile} not found; make one with scripts/make-self-signed.sh (or pass --cert FILE)`
        : `cannot read certificate file ${tls.certFile}: ${(err as Error).message}`,
      missing,
    );
  }
  try {
    keyPem = tls.keyFile === undefined ? certPem : await readFile(tls.keyFile);
  } catch (err) {
    throw new CertificateError(`cannot read key file ${tls.keyFile}: ${(err as Error).message}`, false);
  }
  const options: SecureContextOptions = { cert: certPem, key: keyPem };
  if (tls.keyPassword !== undefined) options.passphrase = tls.keyPassword;
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(certPem);
  } catch {
    throw new CertificateError(`${tls.certFile} holds no PEM certificate; it must start with -----BEGIN CERTIFICATE-----`, false);
  }
  try {
    createSecureContext({ ...profileOptions(), ...options });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const where = tls.keyFile ?? tls.certFile;
    const hint = /BAD_DECRYPT|bad decrypt|PASSWORD|passphrase/i.test(`${code} ${(err as Error).message}`)
      ? 'the key is encrypted: check --key-password'
      : /KEY_VALUES_MISMATCH|key values mismatch/i.test(`${code} ${(err as Error).message}`)
        ? 'the key does not belong to the certificate'
        : /NO_START_LINE|no start line|DECODER/i.test(`${code} ${(err as Error).message}`)
          ? 'no PEM private key found; give it with --key FILE'
          : (err as Error).message.split('\n')[0] ?? 'unknown error';
    throw new CertificateError(`cannot use the key in ${where}: ${hint}`, false);
  }
  return {
    options,
    fingerprint256: leaf.fingerprint256,
    subject: leaf.subject.replace(/\n/g, ', '),
    names: subjectAltNames(leaf),
    validTo: new Date(leaf.validTo).toISOString(),
  };
}
