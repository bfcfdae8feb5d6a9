/**
 * wsproxy's own certificate authority (butterfly's `generateCerts` model, with its gaps fixed): a private CA
 * (ECDSA P-256, 10 years, `CA:TRUE, pathlen:0`, keyCertSign + cRLSign), server certificates browsers and Apple
 * accept (SAN with DNS and iPAddress entries, EKU serverAuth, CA:FALSE, at most 825 days), client certificates (EKU
 * clientAuth) and a CRL signed by the CA. Values in, PEM/DER out: no files here (certs/store.ts writes them).
 * Built on `@peculiar/x509` over Node's WebCrypto, never on hand-written ASN.1.
 */
import { randomBytes, webcrypto } from 'node:crypto';
import { isIpLiteral } from '../net/address.js';
import type * as X509Module from '@peculiar/x509';
import { CertInputError } from '../errors.js';
import { flag } from '../config/options/index.js';

type X509Lib = typeof X509Module;
let lib: Promise<X509Lib> | undefined;

/** Loads `@peculiar/x509` (and the reflect-metadata polyfill it needs) once, bound to Node's WebCrypto. */
export function loadX509(): Promise<X509Lib> {
  lib ??= (async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    return x509;
  })();
  return lib;
}

/** ECDSA P-256 with SHA-256: accepted by every browser, OS store and TLS stack wsproxy meets. */
export const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** Longest server-certificate validity Apple accepts (support.apple.com/103769); also wsproxy's upper bound. */
export const MAX_SERVER_DAYS = 825;
/** Default validity of server and user certificates (Mozilla's 366-day guidance, re-issuing is cheap). */
export const DEFAULT_DAYS = 365;
/** Longest validity of a user certificate (no browser rule binds client certificates; ten years is butterfly's). */
export const MAX_USER_DAYS = 3650;
/** The CA's validity. */
export const CA_YEARS = 10;

/** A CA that can sign: its certificate and private key. */
export interface Authority {
  readonly certPem: string;
  readonly key: webcrypto.CryptoKey;
}

/** One issued certificate with its (unencrypted PKCS#8) private key. */
export interface Issued {
  readonly certPem: string;
  readonly certDer: Buffer;
  readonly keyPkcs8: Buffer;
  /** Lower-case hex, as OpenSSL prints it. */
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Host names and addresses for a server certificate's SAN. */
export interface HostNames {
  readonly dns: readonly string[];
  readonly ips: readonly string[];
}

/**
 * Splits `host` values into DNS names and IP addresses (an IP must be an iPAddress SAN entry, not `DNS:1.2.3.4`,
 * or iOS and Chrome refuse it). Accepts `*.example.com` wildcards and strips IPv6 brackets. Throws CertInputError.
 */
export function parseHosts(values: readonly string[]): HostNames {
  const dns: string[] = [];
  const ips: string[] = [];
  for (const raw of values.flatMap((v) => v.split(/[\s,]+/)).filter((v) => v.length > 0)) {
    const v = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
    if (isIpLiteral(v)) {
      if (!ips.includes(v)) ips.push(v);
      continue;
    }
    const name = v.toLowerCase().replace(/\.$/, '');
    const body = name.startsWith('*.') ? name.slice(2) : name;
    const labels = body.split('.');
    const ok = name.length <= 253 && labels.every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(l));
    if (!ok)
      throw new CertInputError(
        `${flag('host')}: '${raw}' is not a host name or IP address; give e.g. vnc.example.com or 192.0.2.10`,
      );
    if (!dns.includes(name)) dns.push(name);
  }
  if (dns.length === 0 && ips.length === 0)
    throw new CertInputError(`${flag('host')}: give at least one host name or address`);
  return { dns, ips };
}

/** Checks a user name for `cert user NAME`: it becomes a file name and the certificate's CN. */
export function checkUserName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(name)) {
    throw new CertInputError(
      `user name '${name}' must be 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit`,
    );
  }
  return name;
}

/** A positive 16-byte random serial (RFC 5280 §4.1.2.2: positive, at most 20 octets; CA/B: 64 random bits or more). */
function newSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

// A minute of back-dating absorbs small clock differences between this machine and its clients.
function startNow(): Date {
  return new Date(Date.now() - 60_000);
}

async function newKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
}

async function finish(cert: InstanceType<X509Lib['X509Certificate']>, keys: webcrypto.CryptoKeyPair): Promise<Issued> {
  const keyPkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    certPem: cert.toString('pem') + '\n',
    certDer: Buffer.from(cert.rawData),
    keyPkcs8,
    serial: cert.serialNumber.toLowerCase(),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
}

/** PEM of an unencrypted PKCS#8 private key. */
export function keyToPem(pkcs8: Buffer): string {
  const b64 = pkcs8
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`;
}

/** Makes a new CA. `label` goes into its CN so several wsproxy CAs can be told apart in a browser's store. */
export async function createAuthority(label: string, years = CA_YEARS): Promise<Issued> {
  const x509 = await loadX509();
  const keys = await newKeys();
  const notBefore = startNow();
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + years);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerial(),
    name: [{ CN: [`wsproxy CA ${label}`] }, { O: ['wsproxy'] }],
    notBefore,
    notAfter,
    signingAlgorithm: KEY_ALGORITHM,
    keys,
    extensions: [
      // pathlen:0: this CA signs leaves only, never another CA.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return finish(cert, keys);
}

/** Reads a CA certificate and its PKCS#8 PEM key into an {@link Authority}; checks that they belong together. */
export async function loadAuthority(certPem: string, keyPem: string): Promise<Authority> {
  const x509 = await loadX509();
  const cert = new x509.X509Certificate(certPem);
  const der = x509.PemConverter.decode(keyPem)[0];
  if (der === undefined) throw new CertInputError('the CA key file holds no PEM private key');
  const key = await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']);
  // Sign-and-verify once: a CA key that does not match ca.crt would issue certificates nothing can verify.
  const probe = Buffer.from('wsproxy CA key check');
  const sig = await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, probe);
  const pub = await webcrypto.subtle.importKey(
    'spki',
    cert.publicKey.rawData,
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['verify'],
  );
  if (!(await webcrypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, pub, sig, probe))) {
    throw new CertInputError('the CA key does not belong to the CA certificate');
  }
  return { certPem, key };
}

async function issue(
  ca: Authority,
  subject: { CN?: string[]; O?: string[] }[],
  days: number,
  extensions: (x509: X509Lib) => InstanceType<X509Lib['Extension']>[],
): Promise<Issued> {
  const x509 = await loadX509();
  const caCert = new x509.X509Certificate(ca.certPem);
  const keys = await newKeys();
  const notBefore = startNow();
  let notAfter = new Date(notBefore.getTime() + days * 86_400_000);
  // A leaf outliving its CA fails verification at the CA's end anyway; say so by not pretending otherwise.
  if (notAfter > caCert.notAfter) notAfter = caCert.notAfter;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: newSerial(),
    subject,
    issuer: caCert.subject,
    notBefore,
    notAfter,
    signingAlgorithm: KEY_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      ...extensions(x509),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return finish(cert, keys);
}

/** Issues a server certificate for `names`, valid `days` (1..825). */
export async function issueServer(ca: Authority, names: HostNames, days = DEFAULT_DAYS): Promise<Issued> {
  if (!Number.isInteger(days) || days < 1 || days > MAX_SERVER_DAYS) {
    throw new CertInputError(
      `${flag('days')}: ${days} is out of range for a server certificate; give 1-${MAX_SERVER_DAYS} (Apple refuses longer)`,
    );
  }
  const cn = names.dns[0] ?? names.ips[0] ?? 'localhost';
  return issue(ca, [{ CN: [cn] }, { O: ['wsproxy'] }], days, (x509) => [
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension([
      ...names.dns.map((value) => ({ type: 'dns' as const, value })),
      ...names.ips.map((value) => ({ type: 'ip' as const, value })),
    ]),
  ]);
}

/** Issues a client certificate for user `name` (CN), valid `days` (1..3650). */
export async function issueUser(ca: Authority, name: string, days = DEFAULT_DAYS): Promise<Issued> {
  checkUserName(name);
  if (!Number.isInteger(days) || days < 1 || days > MAX_USER_DAYS) {
    throw new CertInputError(
      `${flag('days')}: ${days} is out of range for a user certificate; give 1-${MAX_USER_DAYS}`,
    );
  }
  return issue(ca, [{ CN: [name] }, { O: ['wsproxy user'] }], days, (x509) => [
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
  ]);
}

/** A revoked certificate for the CRL. */
export interface Revocation {
  readonly serial: string;
  readonly revokedAt: Date;
}

/**
 * Makes the CA's CRL (PEM) listing `revoked`. Its nextUpdate is the CA's own end: OpenSSL rejects every client once
 * a CRL has expired, and this CRL is rewritten locally on every `cert revoke`, not fetched from anywhere.
 */
export async function createCrl(ca: Authority, revoked: readonly Revocation[]): Promise<string> {
  const x509 = await loadX509();
  const caCert = new x509.X509Certificate(ca.certPem);
  const crl = await x509.X509CrlGenerator.create({
    issuer: caCert.subject,
    thisUpdate: startNow(),
    nextUpdate: caCert.notAfter,
    signingAlgorithm: KEY_ALGORITHM,
    signingKey: ca.key,
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey)],
    entries: revoked.map((r) => ({
      serialNumber: r.serial,
      revocationDate: r.revokedAt,
      reason: x509.X509CrlReason.cessationOfOperation,
    })),
  });
  // OpenSSL reads only the 'X509 CRL' PEM label; @peculiar/x509 writes 'CRL'.
  return x509.PemConverter.encode(crl.rawData, 'X509 CRL') + '\n';
}
