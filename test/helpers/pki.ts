/**
 * A throwaway PKI made with the `openssl` CLI (`openssl ca`, so certificates can be back-dated, revoked and listed in
 * a CRL): a test CA with a server certificate for localhost/127.0.0.1/::1, client certificates (good, expired,
 * revoked, CN not on an allowlist, wildcard SAN), and a second, unrelated CA with its own client. Generated into a
 * temp dir once per test process.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import WebSocket from 'ws';

/** A client certificate and its key (PEM). */
export interface ClientPair {
  readonly cert: string;
  readonly key: string;
  readonly certFile: string;
}

/** The generated files and PEMs. */
export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  readonly ca: string;
  readonly crlFile: string;
  /** Server certificate + key in one PEM (the `--cert` shape), issued by the test CA. */
  readonly serverPem: string;
  /** The same with an RSA-2048 key (static-RSA key exchange is only possible with an RSA certificate). */
  readonly rsaServerPem: string;
  /** A second server certificate (ECDSA) for reload tests, and one more; each is a `--cert` PEM. */
  readonly altServerPems: readonly [string, string];
  /** ffdhe2048 DH parameters (PEM). */
  readonly dhparamFile: string;
  /** The CA's config, to issue or revoke more. */
  readonly caConfig: string;
  readonly clients: {
    readonly good: ClientPair; // CN=alice
    readonly otherCa: ClientPair; // CN=alice, issued by another CA
    readonly expired: ClientPair; // CN=alice, expired in 2020
    readonly revoked: ClientPair; // CN=bob, listed in the CRL
    readonly notAllowed: ClientPair; // CN=carol, valid, not on the allowlist
    readonly wildcard: ClientPair; // CN=dave, SAN DNS:dave.ops.test
    readonly viaIntermediate: ClientPair; // CN=frank, issued by an intermediate CA; cert holds leaf + intermediate
  };
}

function openssl(args: readonly string[], env: NodeJS.ProcessEnv = {}): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
}

function caConfig(dir: string): string {
  return `[ ca ]
default_ca = CA_default
[ CA_default ]
dir = ${dir}
database = ${dir}/index.txt
new_certs_dir = ${dir}/newcerts
serial = ${dir}/serial
crlnumber = ${dir}/crlnumber
certificate = ${dir}/ca.crt
private_key = ${dir}/ca.key
default_md = sha256
default_days = 30
default_crl_days = 30
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
[ client_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = \${ENV::SAN}
[ ca_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[ server_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
`;
}

/**
 * Makes a CA in `dir` (key, certificate, `openssl ca` database). Self-signed, or an intermediate issued by the CA
 * whose config is `parent` (then `parentDir` holds that CA). Returns its config file.
 */
export function makeCa(dir: string, name: string, parent?: { cnf: string; dir: string }): string {
  mkdirSync(join(dir, 'newcerts'), { recursive: true });
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(join(dir, 'crlnumber'), '1000\n');
  const cnf = join(dir, 'ca.cnf');
  writeFileSync(cnf, caConfig(dir));
  if (parent) {
    const sub = issue(parent.cnf, parent.dir, `sub-${basename(dir)}`, {
      cn: name,
      ext: 'ca_ext',
      san: `DNS:${basename(dir)}.ca.test`,
    });
    writeFileSync(join(dir, 'ca.crt'), sub.cert);
    copyFileSync(join(parent.dir, `sub-${basename(dir)}.key`), join(dir, 'ca.key'));
    return cnf;
  }
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    join(dir, 'ca.key'),
    '-out',
    join(dir, 'ca.crt'),
    '-days',
    '30',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return cnf;
}

/** Issues a certificate from the CA whose config is `cnf`. `dates` back-dates it (YYYYMMDDHHMMSSZ). */
export function issue(
  cnf: string,
  dir: string,
  name: string,
  options: {
    cn: string;
    san?: string;
    ext?: 'client_ext' | 'server_ext' | 'ca_ext';
    dates?: [start: string, end: string];
    rsa?: boolean;
  },
): ClientPair {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const crt = join(dir, `${name}.crt`);
  const keyArgs = options.rsa ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  openssl(['req', '-new', ...keyArgs, '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${options.cn}`]);
  openssl(
    [
      'ca',
      '-batch',
      '-notext',
      '-config',
      cnf,
      '-in',
      csr,
      '-out',
      crt,
      '-extensions',
      options.ext ?? 'client_ext',
      ...(options.dates ? ['-startdate', options.dates[0], '-enddate', options.dates[1]] : []),
    ],
    { SAN: options.san ?? `DNS:${options.cn}.clients.test` },
  );
  return { cert: readFileSync(crt, 'utf8'), key: readFileSync(key, 'utf8'), certFile: crt };
}

/** Revokes a certificate and writes the CA's CRL to `out`. */
export function revoke(cnf: string, certFile: string | undefined, out: string): void {
  if (certFile !== undefined) openssl(['ca', '-config', cnf, '-revoke', certFile], { SAN: '' });
  openssl(['ca', '-config', cnf, '-gencrl', '-out', out], { SAN: '' });
}

let cache: TestPki | undefined;

/** The test PKI, made once per process. */
export function testPki(): TestPki {
  if (cache) return cache;
  const dir = mkdtempSync(join(tmpdir(), 'wsproxy-pki-'));
  const caDir = join(dir, 'ca');
  const otherDir = join(dir, 'other');
  const cnf = makeCa(caDir, 'wsproxy test CA');
  const otherCnf = makeCa(otherDir, 'some other CA');
  const server = issue(cnf, caDir, 'server', { cn: 'localhost', ext: 'server_ext' });
  const serverPem = join(dir, 'server.pem');
  writeFileSync(serverPem, server.cert + server.key, { mode: 0o600 });
  const rsa = issue(cnf, caDir, 'server-rsa', { cn: 'localhost', ext: 'server_ext', rsa: true });
  const rsaServerPem = join(dir, 'server-rsa.pem');
  writeFileSync(rsaServerPem, rsa.cert + rsa.key, { mode: 0o600 });
  const altServerPems = [1, 2].map((n) => {
    const alt = issue(cnf, caDir, `server-alt${n}`, { cn: 'localhost', ext: 'server_ext' });
    const file = join(dir, `server-alt${n}.pem`);
    writeFileSync(file, alt.cert + alt.key, { mode: 0o600 });
    return file;
  }) as [string, string];
  const dhparamFile = join(dir, 'dh.pem');
  openssl(['genpkey', '-genparam', '-algorithm', 'DH', '-pkeyopt', 'group:ffdhe2048', '-out', dhparamFile]);
  const clients = {
    good: issue(cnf, caDir, 'alice', { cn: 'alice' }),
    otherCa: issue(otherCnf, otherDir, 'alice', { cn: 'alice' }),
    expired: issue(cnf, caDir, 'expired', { cn: 'alice', dates: ['20200101000000Z', '20200201000000Z'] }),
    revoked: issue(cnf, caDir, 'bob', { cn: 'bob' }),
    notAllowed: issue(cnf, caDir, 'carol', { cn: 'carol' }),
    wildcard: issue(cnf, caDir, 'dave', { cn: 'dave', san: 'DNS:dave.ops.test' }),
    viaIntermediate: ((): ClientPair => {
      const subDir = join(dir, 'sub');
      const subCnf = makeCa(subDir, 'wsproxy test intermediate', { cnf, dir: caDir });
      const frank = issue(subCnf, subDir, 'frank', { cn: 'frank' });
      // The client sends its chain: leaf, then the intermediate.
      return { ...frank, cert: frank.cert + readFileSync(join(subDir, 'ca.crt'), 'utf8') };
    })(),
  };
  const crlFile = join(dir, 'ca.crl');
  revoke(cnf, clients.revoked.certFile, crlFile);
  const caFile = join(caDir, 'ca.crt');
  cache = {
    dir,
    caFile,
    ca: readFileSync(caFile, 'utf8'),
    crlFile,
    serverPem,
    rsaServerPem,
    altServerPems,
    dhparamFile,
    caConfig: cnf,
    clients,
  };
  return cache;
}

// ---------------------------------------------------------------------------------------------------------------------
// Odd certificates, built byte by byte (a minimal DER writer; no library would let us write month 13 or an empty
// serial). The TLS handshake only proves the private key, so any of these can be presented by a client.

/** One DER TLV: `tag`, definite length, content. */
export function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

/** An OBJECT IDENTIFIER (`'2.5.4.3'`). */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out = [40 * (arcs[0] ?? 0) + (arcs[1] ?? 0)];
  for (const arc of arcs.slice(2)) {
    const bytes = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) bytes.unshift((v & 0x7f) | 0x80);
    out.push(...bytes);
  }
  return der(0x06, Buffer.from(out));
}

/** DER tags used below. */
export const TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  UTF8: 0x0c,
  PRINTABLE: 0x13,
  IA5: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  BMP: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** One attribute of a name: type OID, string tag, raw value bytes (any bytes: they need not be valid for the tag). */
export interface NameAttribute {
  readonly oid: string;
  readonly tag: number;
  readonly value: Buffer;
}

/** A Name (RDNSequence), one attribute per RDN; `[]` is the empty DN. */
export function dnDer(attributes: readonly NameAttribute[]): Buffer {
  return der(TAG.SEQUENCE, ...attributes.map((a) => der(TAG.SET, der(TAG.SEQUENCE, oid(a.oid), der(a.tag, a.value)))));
}

/** `CN=name` as a Name. */
export function cnDer(name: string): Buffer {
  return dnDer([{ oid: '2.5.4.3', tag: TAG.UTF8, value: Buffer.from(name) }]);
}

/** A time as written in the certificate: UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime, text unchecked. */
export interface RawTime {
  readonly tag: number;
  readonly text: string;
}

/** A GeneralName: context tag byte (0x82 dNSName, 0x81 rfc822Name, 0x86 URI, 0x87 iPAddress, 0x88 registeredID, 0xa4 directoryName, 0xa0 otherName) and its content. */
export interface RawGeneralName {
  readonly tag: number;
  readonly value: Buffer;
}

/** What an odd certificate holds; every field has a sane default. */
export interface OddCertOptions {
  /** INTEGER content bytes (two's complement, so `0x80…` is negative; may be empty or 40 bytes). */
  readonly serial?: Buffer;
  readonly subject?: Buffer;
  readonly notBefore?: RawTime;
  readonly notAfter?: RawTime;
  /** subjectAltName entries; undefined = no extension. */
  readonly sans?: readonly RawGeneralName[] | undefined;
  /** Sign with the test CA (issuer = its subject), so only the odd fields can stop verification. Else self-signed. */
  readonly signedByTestCa?: boolean;
}

/** The children of a DER SEQUENCE (enough of a reader to take a Name out of a certificate). */
function children(seq: Buffer): Buffer[] {
  const out: Buffer[] = [];
  const header = (at: number): [number, number] => {
    const first = seq[at + 1] ?? 0;
    if (first < 0x80) return [2, first];
    let n = 0;
    for (let k = 0; k < (first & 0x7f); k++) n = n * 256 + (seq[at + 2 + k] ?? 0);
    return [2 + (first & 0x7f), n];
  };
  let [i] = header(0);
  while (i < seq.length) {
    const [h, n] = header(i);
    out.push(seq.subarray(i, i + h + n));
    i += h + n;
  }
  return out;
}

/** The subject Name (DER) of a PEM certificate. */
function subjectOf(pem: string): Buffer {
  const certDer = new X509Certificate(pem).raw;
  const tbs = children(certDer)[0] ?? Buffer.alloc(0);
  return children(tbs)[5] ?? Buffer.alloc(0); // [0] version, serial, signature, issuer, validity, subject
}

const ECDSA_SHA256 = der(TAG.SEQUENCE, oid('1.2.840.10045.4.3.2'));
let oddDir: string | undefined;
let oddCount = 0;
let oddKey: { key: KeyObject; pem: string; spki: Buffer } | undefined;

/** One P-256 key for every odd certificate (key generation is the slow part of a fuzz case). */
function oddKeyPair(): { key: KeyObject; pem: string; spki: Buffer } {
  if (oddKey) return oddKey;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  oddKey = {
    key: privateKey,
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    spki: publicKey.export({ type: 'spki', format: 'der' }),
  };
  return oddKey;
}

/** A UTCTime or GeneralizedTime TLV. */
export function timeDer(t: RawTime): Buffer {
  return der(t.tag, Buffer.from(t.text, 'latin1'));
}

/**
 * An X.509 v3 certificate with whatever fields `options` give (nothing is validated), with its key, for a client to
 * present. Self-signed, or signed by the test CA of {@link testPki}.
 */
export function oddClientCert(options: OddCertOptions = {}): ClientPair & { readonly der: Buffer } {
  const pair = oddKeyPair();
  const pki = options.signedByTestCa ? testPki() : undefined;
  const subject = options.subject ?? cnDer('odd');
  const issuer = pki ? subjectOf(pki.ca) : subject;
  const signer = pki ? createPrivateKey(readFileSync(join(pki.dir, 'ca', 'ca.key'))) : pair.key;
  const extensions =
    options.sans === undefined
      ? []
      : [
          der(
            0xa3,
            der(
              TAG.SEQUENCE,
              der(
                TAG.SEQUENCE,
                oid('2.5.29.17'),
                der(TAG.OCTET_STRING, der(TAG.SEQUENCE, ...options.sans.map((n) => der(n.tag, n.value)))),
              ),
            ),
          ),
        ];
  const tbs = der(
    TAG.SEQUENCE,
    der(0xa0, der(TAG.INTEGER, Buffer.from([2]))),
    der(TAG.INTEGER, options.serial ?? Buffer.from([0x10, 0x01])),
    ECDSA_SHA256,
    issuer,
    der(
      TAG.SEQUENCE,
      timeDer(options.notBefore ?? { tag: TAG.UTC_TIME, text: '250101000000Z' }),
      timeDer(options.notAfter ?? { tag: TAG.GENERALIZED_TIME, text: '20991231235959Z' }),
    ),
    subject,
    pair.spki,
    ...extensions,
  );
  const signature = sign('sha256', tbs, signer);
  const certDer = der(TAG.SEQUENCE, tbs, ECDSA_SHA256, der(TAG.BIT_STRING, Buffer.from([0]), signature));
  const cert = `-----BEGIN CERTIFICATE-----\n${certDer
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
  oddDir ??= mkdtempSync(join(tmpdir(), 'wsproxy-odd-'));
  const certFile = join(oddDir, `odd-${++oddCount}.crt`);
  writeFileSync(certFile, cert);
  return { cert, key: pair.pem, certFile, der: certDer };
}

/** The finding-1 certificate: notBefore in month 13 (`261304000000Z`), self-signed. */
export function month13ClientCert(): ClientPair & { readonly der: Buffer } {
  return oddClientCert({ notBefore: { tag: TAG.UTC_TIME, text: '261304000000Z' } });
}

/** A wss:// session on `port` with `client`'s certificate, trusting the test CA, echoes one message. */
export async function clientRelays(port: number, pki: TestPki, client: ClientPair = pki.clients.good): Promise<void> {
  const ws = new WebSocket(`wss://127.0.0.1:${port}/websockify`, { ca: pki.ca, cert: client.cert, key: client.key });
  await once(ws, 'open');
  ws.send(Buffer.from('still here'));
  const [data] = (await once(ws, 'message')) as [Buffer];
  assert.equal(data.toString(), 'still here');
  ws.terminate();
}
