/**
 * Recognises wsproxy's own CA (from `wsproxy cert init`) behind the certificate in use, so the built-in page can offer
 * it for download (`/ca.crt`). The CA is `ca.crt` in the same directory as the `cert` file, and it counts only if it
 * is a CA certificate (the name certs/store.ts gives it; not imported here so the daemon does not load pkijs) that really signed the leaf being served. What is offered is that certificate re-encoded from
 * its parsed form: whatever else the file holds (a key pasted in by mistake) is never sent.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The CA certificate the page may offer. */
export interface OwnCa {
  /** PEM of the CA certificate only. */
  readonly pem: string;
  readonly fingerprint256: string;
  readonly subject: string;
  readonly validTo: string;
}

/** Returns the CA next to `certFile` if it issued the first certificate in `certFile`, else undefined. */
export async function findOwnCa(certFile: string): Promise<OwnCa | undefined> {
  let leaf: X509Certificate;
  let ca: X509Certificate;
  try {
    leaf = new X509Certificate(await readFile(certFile));
    ca = new X509Certificate(await readFile(join(dirname(certFile), 'ca.crt')));
  } catch {
    return undefined;
  }
  if (!ca.ca || !leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) return undefined;
  return {
    pem: ca.toString(),
    fingerprint256: ca.fingerprint256,
    subject: ca.subject.replace(/\n/g, ', '),
    validTo: new Date(ca.validTo).toISOString(),
  };
}
