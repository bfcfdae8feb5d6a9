/**
 * PKCS#12 (`.p12`) export of a user's certificate, its CA and its private key, for browsers and OS stores.
 *
 * Default: what OpenSSL 3 writes by default — PBES2 (PBKDF2-HMAC-SHA-256, AES-256-CBC) for the key and the
 * certificates, HMAC-SHA-256 MAC. Compat (`p12Compat`, macOS Keychain, which has rejected PBES2 files as "wrong
 * password"): pbeWithSHAAnd3-KeyTripleDES-CBC for both and a SHA-1 MAC, i.e. `openssl pkcs12 -keypbe PBE-SHA1-3DES
 * -certpbe PBE-SHA1-3DES -macalg sha1`. Never RC2-40 (OpenSSL's `-legacy`): OpenSSL 3 and Node cannot even read it.
 *
 * The structures are pkijs objects serialised by pkijs/asn1js. WebCrypto has no 3DES, so the compat encryption uses
 * node:crypto's des-ede3-cbc with the PKCS#12 key derivation of RFC 7292 Appendix B.
 */
import { createCipheriv, createHash, randomBytes, webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.2', // pkcs8ShroudedKeyBag
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbeSha1TripleDes: '1.2.840.113549.1.12.1.3',
} as const;

/** Iterations: PBKDF2 runs natively (so many are cheap); the compat KDF and the MAC use OpenSSL's default, 2048. */
const PBKDF2_ITERATIONS = 100_000;
const LEGACY_ITERATIONS = 2048;

/** What goes into the file. */
export interface Pkcs12Input {
  /** DER of the user's certificate. */
  readonly certDer: Buffer;
  /** DER of CA certificates to include (so a browser shows the chain). */
  readonly caDers: readonly Buffer[];
  /** Unencrypted PKCS#8 DER of the user's key. */
  readonly keyPkcs8: Buffer;
  /** Non-empty password (any Unicode; encoded as UTF-8 for PBES2 and as BMPString for the PKCS#12 KDF). */
  readonly password: string;
  /** Label browsers show in their certificate lists. */
  readonly friendlyName: string;
  /** 3DES/SHA-1 for macOS Keychain instead of AES-256/SHA-256. */
  readonly compat: boolean;
}

let engineSet = false;
function engine(): void {
  if (engineSet) return;
  pkijs.setEngine('nodeEngine', new pkijs.CryptoEngine({ name: 'nodeEngine', crypto: webcrypto as never }));
  engineSet = true;
}

/** RFC 7292 Appendix B.2 key derivation with SHA-1 (the only hash pbeWithSHAAnd3-KeyTripleDES-CBC uses). */
export function pkcs12Kdf(password: string, salt: Buffer, id: 1 | 2 | 3, iterations: number, length: number): Buffer {
  const v = 64; // SHA-1 block size
  // BMPString, big-endian, with a two-byte NUL terminator.
  const pw = Buffer.alloc(password.length * 2 + 2);
  for (let i = 0; i < password.length; i++) pw.writeUInt16BE(password.charCodeAt(i), i * 2);
  const fill = (src: Buffer): Buffer => {
    const out = Buffer.alloc(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([salt.length > 0 ? fill(salt) : Buffer.alloc(0), fill(pw)]);
  const result: Buffer[] = [];
  let produced = 0;
  while (produced < length) {
    let A = createHash('sha1').update(D).update(I).digest();
    for (let j = 1; j < iterations; j++) A = createHash('sha1').update(A).digest();
    result.push(A);
    produced += A.length;
    if (produced >= length) break;
    const B = fill(A);
    // I_j = (I_j + B + 1) mod 2^(v*8) for each v-byte block of I.
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k]! + B[k]! + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(result).subarray(0, length);
}

/** Encrypts `plain` with pbeWithSHAAnd3-KeyTripleDES-CBC; returns the AlgorithmIdentifier and the ciphertext. */
function legacyEncrypt(plain: Buffer, password: string): { algorithm: pkijs.AlgorithmIdentifier; cipher: Buffer } {
  const salt = randomBytes(8);
  const key = pkcs12Kdf(password, salt, 1, LEGACY_ITERATIONS, 24);
  const iv = pkcs12Kdf(password, salt, 2, LEGACY_ITERATIONS, 8);
  const c = createCipheriv('des-ede3-cbc', key, iv);
  const cipher = Buffer.concat([c.update(plain), c.final()]);
  const params = new asn1js.Sequence({
    value: [
      new asn1js.OctetString({ valueHex: toArrayBuffer(salt) }),
      new asn1js.Integer({ value: LEGACY_ITERATIONS }),
    ],
  });
  return {
    algorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OID.pbeSha1TripleDes, algorithmParams: params }),
    cipher,
  };
}

/** Encrypts `plain` with PBES2 (PBKDF2-HMAC-SHA-256, AES-256-CBC) through pkijs. */
async function pbes2Encrypt(
  plain: Buffer,
  password: string,
): Promise<{ algorithm: pkijs.AlgorithmIdentifier; cipher: Buffer }> {
  const info = await pkijs.getCrypto(true).encryptEncryptedContentInfo({
    password: toArrayBuffer(Buffer.from(password, 'utf8')),
    contentEncryptionAlgorithm: { name: 'AES-CBC', length: 256 } as never,
    hmacHashAlgorithm: 'SHA-256',
    iterationCount: PBKDF2_ITERATIONS,
    contentToEncrypt: toArrayBuffer(plain),
    contentType: OID.data,
  });
  return { algorithm: info.contentEncryptionAlgorithm, cipher: Buffer.from(info.getEncryptedContent()) };
}

function toArrayBuffer(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

function bagAttributes(friendlyName: string | undefined, localKeyId: Buffer | undefined): pkijs.Attribute[] {
  const attrs: pkijs.Attribute[] = [];
  if (friendlyName !== undefined)
    attrs.push(
      new pkijs.Attribute({ type: OID.friendlyName, values: [new asn1js.BmpString({ value: friendlyName })] }),
    );
  if (localKeyId !== undefined)
    attrs.push(
      new pkijs.Attribute({
        type: OID.localKeyId,
        values: [new asn1js.OctetString({ valueHex: toArrayBuffer(localKeyId) })],
      }),
    );
  return attrs;
}

/** Builds the `.p12` bytes. Throws on an empty password (a blank-password PKCS#12 is butterfly's mistake). */
export async function makePkcs12(input: Pkcs12Input): Promise<Buffer> {
  if (input.password.length === 0) throw new Error('a PKCS#12 password must not be empty');
  engine();
  const encrypt = input.compat
    ? (p: Buffer) => Promise.resolve(legacyEncrypt(p, input.password))
    : (p: Buffer) => pbes2Encrypt(p, input.password);
  // localKeyId ties the key to its certificate (OpenSSL uses the certificate's SHA-1; so do we).
  const localKeyId = createHash('sha1').update(input.certDer).digest();

  const certBag = (der: Buffer, name?: string, id?: Buffer): pkijs.SafeBag =>
    new pkijs.SafeBag({
      bagId: OID.certBag,
      bagValue: new pkijs.CertBag({
        certId: OID.x509Certificate,
        certValue: new asn1js.OctetString({ valueHex: toArrayBuffer(der) }),
      }),
      bagAttributes: bagAttributes(name, id),
    });
  const certContents = new pkijs.SafeContents({
    safeBags: [certBag(input.certDer, input.friendlyName, localKeyId), ...input.caDers.map((der) => certBag(der))],
  });
  const certsEncrypted = await encrypt(Buffer.from(certContents.toSchema().toBER(false)));
  const certInfo = new pkijs.ContentInfo({
    contentType: OID.encryptedData,
    content: new pkijs.EncryptedData({
      version: 0,
      encryptedContentInfo: new pkijs.EncryptedContentInfo({
        contentType: OID.data,
        contentEncryptionAlgorithm: certsEncrypted.algorithm,
        encryptedContent: new asn1js.OctetString({ valueHex: toArrayBuffer(certsEncrypted.cipher) }),
      }),
    }).toSchema(),
  });

  const keyEncrypted = await encrypt(input.keyPkcs8);
  const keyContents = new pkijs.SafeContents({
    safeBags: [
      new pkijs.SafeBag({
        bagId: OID.keyBag,
        bagValue: new pkijs.PKCS8ShroudedKeyBag({
          encryptionAlgorithm: keyEncrypted.algorithm,
          encryptedData: new asn1js.OctetString({ valueHex: toArrayBuffer(keyEncrypted.cipher) }),
        }),
        bagAttributes: bagAttributes(input.friendlyName, localKeyId),
      }),
    ],
  });
  const keyInfo = new pkijs.ContentInfo({
    contentType: OID.data,
    content: new asn1js.OctetString({ valueHex: keyContents.toSchema().toBER(false) }),
  });

  const pfx = new pkijs.PFX({
    parsedValue: {
      integrityMode: 0,
      authenticatedSafe: new pkijs.AuthenticatedSafe({ safeContents: [certInfo, keyInfo] }),
    },
  });
  const macHash = input.compat ? 'SHA-1' : 'SHA-256';
  await pfx.makeInternalValues({
    password: toArrayBuffer(Buffer.from(input.password, 'utf8')),
    iterations: LEGACY_ITERATIONS,
    pbkdf2HashAlgorithm: macHash,
    hmacHashAlgorithm: macHash,
  });
  return Buffer.from(pfx.toSchema().toBER(false));
}
