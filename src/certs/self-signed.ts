/**
 * In-process self-signed certificate for the `demo` start: ECDSA P-256, SHA-256, CA:FALSE, EKU serverAuth, SAN with
 * `localhost`, this machine's name and its addresses (IPs as iPAddress entries), 365 days. Browsers and iOS accept
 * such a certificate after a click-through; the classic `openssl req -x509` recipe (CA:TRUE, no SAN) they reject.
 * Written once to the state directory (file mode 0600) so the browser's exception survives restarts.
 */
import { randomBytes, webcrypto } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { dirname } from 'node:path';

/** Host names and addresses to put in the SAN: localhost, loopback, this host's name and interface addresses. */
export function localNames(): { dns: string[]; ips: string[] } {
  const dns = new Set(['localhost']);
  const host = hostname();
  if (host && /^[a-z0-9.-]+$/i.test(host)) dns.add(host.toLowerCase());
  const ips = new Set(['127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) {
    for (const nif of list ?? []) {
      // Link-local v6 addresses carry a zone and cannot be typed into a URL bar; leave them out.
      if (!nif.address.startsWith('fe80:')) ips.add(nif.address);
    }
  }
  return { dns: [...dns], ips: [...ips] };
}

/** Makes a PEM with the certificate followed by its unencrypted PKCS#8 key. */
export async function makeSelfSignedPem(names = localNames(), days = 365): Promise<string> {
  // @peculiar/x509 needs the reflect-metadata polyfill; load both only when a certificate is really made.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const notBefore = new Date(Date.now() - 60_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    // Positive 16-byte serial (top bit cleared), as RFC 5280 §4.1.2.2 asks.
    serialNumber: (randomBytes(16)[0]! & 0x7f).toString(16).padStart(2, '0') + randomBytes(15).toString('hex'),
    name: `CN=${names.dns[0] ?? 'localhost'}, O=wsproxy self-signed`,
    notBefore,
    notAfter: new Date(notBefore.getTime() + days * 86_400_000),
    signingAlgorithm: alg,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.dns.map((value) => ({ type: 'dns' as const, value })),
        ...names.ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return cert.toString('pem') + '\n' + x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') + '\n';
}

/** Returns the PEM at `file`, making and saving a new one (0600) if there is none. `created` says which. */
export async function ensureSelfSignedPem(file: string): Promise<{ created: boolean }> {
  try {
    await readFile(file);
    return { created: false };
  } catch {
    // fall through: make one
  }
  const pem = await makeSelfSignedPem();
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // 'wx': never overwrite a file another process created meanwhile.
  try {
    await writeFile(file, pem, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { created: false };
  }
  return { created: true };
}
