/**
 * TLS server settings: the Mozilla "Intermediate" profile set explicitly (Node's default cipher list also offers
 * static-RSA and CBC suites, which scanners flag), and loading of websockify-style PEM files (certificate and key in
 * one file, or `key` separately, optionally encrypted).
 */
import { readFile } from 'node:fs/promises';
import { constants as cryptoConstants, X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { TlsConfig, TlsOptionsConfig } from '../config/types.js';
import { CertificateError } from '../errors.js';
import { flag } from '../config/options/index.js';

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

/** DHE suites of Mozilla 5.7 Intermediate, added only when `dhparam` gives parameters (6.0 dropped DHE). */
export const DHE_CIPHERS = ['DHE-RSA-AES128-GCM-SHA256', 'DHE-RSA-AES256-GCM-SHA384', 'DHE-RSA-CHACHA20-POLY1305'].join(
  ':',
);

/** OpenSSL's TLS 1.3 suites, named explicitly where a list must contain only TLS 1.3 (the modern profile). */
export const TLS13_CIPHERS = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'].join(
  ':',
);

/**
 * Options shared by every TLS context wsproxy builds for its listener: the profile (intermediate: TLS 1.2 ECDHE+AEAD
 * and TLS 1.3; modern: TLS 1.3 only), adjusted by `sslVersion`, `sslCiphers`, `tls13Ciphers`,
 * `ecdhCurve`, `dhparam` (adds DHE) and `sessionTickets` off.
 */
export function profileOptions(opts?: TlsOptionsConfig): SecureContextOptions & { honorCipherOrder: boolean } {
  const modern = opts?.profile === 'modern';
  const tls13 = opts?.tls13Ciphers;
  let ciphers: string;
  if (modern) ciphers = tls13 ?? TLS13_CIPHERS;
  else {
    const tls12 =
      opts?.ciphers ??
      (opts?.dhparamFile === undefined ? INTERMEDIATE_CIPHERS : `${INTERMEDIATE_CIPHERS}:${DHE_CIPHERS}`);
    // Node splits the list: TLS_* names set the TLS 1.3 suites, the rest the TLS 1.2 list.
    ciphers = tls13 === undefined ? tls12 : `${tls12}:${tls13}`;
  }
  return {
    minVersion: opts?.minVersion ?? (modern ? 'TLSv1.3' : 'TLSv1.2'),
    maxVersion: 'TLSv1.3',
    ciphers,
    ecdhCurve: opts?.ecdhCurve ?? ecdhCurves(),
    honorCipherOrder: false,
    // Without tickets every new connection is a full handshake (Crossbar's choice); with them, keys rotate (reload.ts).
    ...(opts?.sessionTickets === false ? { secureOptions: cryptoConstants.SSL_OP_NO_TICKET } : {}),
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
export async function loadCertificate(
  tls: Pick<TlsConfig, 'certFile' | 'keyFile' | 'keyPassword'> & Partial<Pick<TlsConfig, 'clientCert' | 'options'>>,
): Promise<LoadedCertificate> {
  let certPem: Buffer;
  let keyPem: Buffer;
  try {
    certPem = await readFile(tls.certFile);
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new CertificateError(
      missing
        ? `certificate file ${tls.certFile} not found; make one with scripts/make-self-signed.sh (or pass ${flag('cert')} FILE)`
        : `cannot read certificate file ${tls.certFile}: ${(err as Error).message}`,
      missing,
    );
  }
  try {
    keyPem = tls.keyFile === undefined ? certPem : await readFile(tls.keyFile);
  } catch (err) {
    throw new CertificateError(`cannot read key file ${tls.keyFile}: ${(err as Error).message}`, false);
  }
  const extra = await readExtraFiles(tls);
  // The chain follows the leaf in one PEM: Node sends the certificates in file order.
  const options: SecureContextOptions = {
    cert: extra.chain === undefined ? certPem : Buffer.concat([certPem, Buffer.from('\n'), extra.chain]),
    key: keyPem,
  };
  if (tls.keyPassword !== undefined) options.passphrase = tls.keyPassword;
  if (extra.ca !== undefined) options.ca = extra.ca;
  if (extra.crl !== undefined) options.crl = extra.crl;
  if (extra.dhparam !== undefined) options.dhparam = extra.dhparam;
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(certPem);
  } catch {
    throw new CertificateError(
      `${tls.certFile} holds no PEM certificate; it must start with -----BEGIN CERTIFICATE-----`,
      false,
    );
  }
  try {
    createSecureContext({ ...profileOptions(tls.options), ...options });
  } catch (err) {
    const extraProblem = extraFileProblem(err as Error, tls);
    if (extraProblem !== undefined) throw new CertificateError(extraProblem, false);
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const where = tls.keyFile ?? tls.certFile;
    const hint = /BAD_DECRYPT|bad decrypt|PASSWORD|passphrase/i.test(`${code} ${(err as Error).message}`)
      ? `the key is encrypted: check ${flag('keyPassword')}`
      : /KEY_VALUES_MISMATCH|key values mismatch/i.test(`${code} ${(err as Error).message}`)
        ? 'the key does not belong to the certificate'
        : /NO_START_LINE|no start line|DECODER/i.test(`${code} ${(err as Error).message}`)
          ? `no PEM private key found; give it with ${flag('key')} FILE`
          : ((err as Error).message.split('\n')[0] ?? 'unknown error');
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

/** The optional PEM files next to the certificate: chain, client CA, CRL, DH parameters. */
async function readExtraFiles(
  tls: Partial<Pick<TlsConfig, 'clientCert' | 'options'>>,
): Promise<{ chain?: Buffer; ca?: Buffer; crl?: Buffer; dhparam?: Buffer }> {
  const files: [key: 'chain' | 'ca' | 'crl' | 'dhparam', flag: string, path: string | undefined, marker: string][] = [
    ['chain', flag('chain'), tls.options?.chainFile, 'CERTIFICATE'],
    ['ca', flag('cafile'), tls.clientCert?.caFile, 'CERTIFICATE'],
    ['crl', flag('crl'), tls.clientCert?.crlFile, 'X509 CRL'],
    ['dhparam', flag('dhparam'), tls.options?.dhparamFile, 'DH PARAMETERS'],
  ];
  const out: { chain?: Buffer; ca?: Buffer; crl?: Buffer; dhparam?: Buffer } = {};
  for (const [key, flag, path, marker] of files) {
    if (path === undefined) continue;
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (err) {
      throw new CertificateError(
        `cannot read ${flag} file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        false,
      );
    }
    // OpenSSL skips what it cannot parse in some of these; a file without the expected block is a mistake to report.
    if (!data.includes(`-----BEGIN ${marker}-----`)) {
      throw new CertificateError(`${flag} file ${path} holds no PEM '${marker}' block`, false);
    }
    if (key === 'ca' || key === 'chain') {
      try {
        new X509Certificate(data);
      } catch {
        throw new CertificateError(`${flag} file ${path}: the first certificate cannot be parsed`, false);
      }
    }
    out[key] = data;
  }
  return out;
}

/** A context error caused by the CRL, CA or DH file, named by its flag; undefined when it is about the key pair. */
function extraFileProblem(err: Error, tls: Partial<Pick<TlsConfig, 'clientCert' | 'options'>>): string | undefined {
  const text = `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`;
  if (tls.clientCert?.crlFile !== undefined && /CRL/i.test(text))
    return `${flag('crl')} file ${tls.clientCert.crlFile} cannot be used: ${err.message.split('\n')[0] ?? ''}`;
  if (tls.options?.dhparamFile !== undefined && /\bDH\b|dh key|dhparam/i.test(text))
    return `${flag('dhparam')} file ${tls.options.dhparamFile} cannot be used: ${err.message.split('\n')[0] ?? ''}`;
  return undefined;
}
