/**
 * The certificate directory `wsproxy cert …` manages (default `<state dir>/ca`, or `certDir`):
 *
 * ```
 * ca.crt            the CA certificate (0644) — what people install; what `cafile` / `targetCa` take
 * ca.key            the CA's private key (0600) — never leaves this directory
 * server.pem        the server certificate followed by its key (0600) — what `cert` takes
 * crl.pem           the CA's revocation list (0644) — what `crl` takes; rewritten by `cert revoke`
 * users/NAME.crt    a user's client certificate (0644)
 * users/NAME.p12    the same with its key, password-protected PKCS#12 (0600) — hand it to the user
 * index.json        every certificate issued: kind, name, serial, validity, revocation time
 * ```
 *
 * The directory is created 0700. It is refused inside a `web` root, so nothing here can be served by accident.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, realpath, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, isAbsolute, resolve } from 'node:path';
import { CertInputError } from '../errors.js';
import {
  checkUserName,
  createAuthority,
  createCrl,
  issueServer,
  issueUser,
  keyToPem,
  loadAuthority,
  type Authority,
  type HostNames,
} from './authority.js';
import { makePkcs12 } from './pkcs12.js';
import { flag } from '../config/options/index.js';

/** File names inside the certificate directory. */
export const STORE_FILES = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  server: 'server.pem',
  crl: 'crl.pem',
  index: 'index.json',
  users: 'users',
} as const;

/** One line of the index. */
export interface IssuedEntry {
  readonly kind: 'ca' | 'server' | 'user';
  readonly name: string;
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly revokedAt?: string;
}

interface IndexFile {
  version: 1;
  issued: IssuedEntry[];
}

async function exists(path: string): Promise<boolean> {
  try {
    await readFile(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes `data` to `path` with `mode` atomically (temp file + rename), so a reader never sees half a file. */
async function writeAtomic(path: string, data: string | Buffer, mode: number): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode, flag: 'wx' });
  await chmod(tmp, mode); // the umask may have taken bits away from `mode`
  await rename(tmp, path);
}

/** Whether `inner` is `outer` or below it (both absolute). */
function isInside(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The real path of `path`, or of its nearest existing ancestor joined with the rest. */
async function realish(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    const parent = dirname(path);
    if (parent === path) return path;
    return join(await realish(parent), path.slice(parent.length + (parent.endsWith('/') ? 0 : 1)));
  }
}

/**
 * Refuses a certificate directory inside a web root (the CA key must never be reachable over HTTP).
 * Both paths are compared after resolving symlinks.
 */
export async function checkNotUnderWebRoot(dir: string, webRoot: string | undefined): Promise<void> {
  if (webRoot === undefined) return;
  const [d, w] = await Promise.all([realish(resolve(dir)), realish(resolve(webRoot))]);
  if (isInside(d, w)) {
    throw new CertInputError(
      `${flag('certDir')}: '${dir}' is inside the ${flag('web')} root '${webRoot}'; keep the CA key where it cannot be served`,
    );
  }
}

async function readIndex(dir: string): Promise<IndexFile> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, STORE_FILES.index), 'utf8')) as IndexFile;
    if (parsed.version !== 1 || !Array.isArray(parsed.issued)) throw new Error('bad format');
    return parsed;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, issued: [] };
    throw new CertInputError(
      `${join(dir, STORE_FILES.index)} is not a wsproxy certificate index; move it away or choose another ${flag('certDir')}`,
    );
  }
}

async function writeIndex(dir: string, index: IndexFile): Promise<void> {
  await writeAtomic(join(dir, STORE_FILES.index), JSON.stringify(index, null, 2) + '\n', 0o644);
}

function entry(
  kind: IssuedEntry['kind'],
  name: string,
  c: { serial: string; notBefore: Date; notAfter: Date },
): IssuedEntry {
  return { kind, name, serial: c.serial, notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString() };
}

/** Loads the directory's CA; a missing one is a CertInputError that says to run `cert init`. */
export async function openAuthority(dir: string): Promise<Authority> {
  let certPem: string;
  let keyPem: string;
  try {
    [certPem, keyPem] = await Promise.all([
      readFile(join(dir, STORE_FILES.caCert), 'utf8'),
      readFile(join(dir, STORE_FILES.caKey), 'utf8'),
    ]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CertInputError(
        `no CA in '${dir}'; run 'wsproxy cert init ${flag('host')} NAME' first (or give ${flag('certDir')})`,
      );
    }
    throw err;
  }
  return loadAuthority(certPem, keyPem);
}

async function writeCrl(dir: string, ca: Authority, index: IndexFile): Promise<void> {
  const revoked = index.issued
    .filter((e) => e.revokedAt !== undefined)
    .map((e) => ({ serial: e.serial, revokedAt: new Date(e.revokedAt!) }));
  await writeAtomic(join(dir, STORE_FILES.crl), await createCrl(ca, revoked), 0o644);
}

/** What `cert init` did. */
export interface InitResult {
  readonly caCreated: boolean;
  readonly caFile: string;
  readonly serverFile: string;
  readonly crlFile: string;
  readonly caFingerprint256: string;
  readonly serverFingerprint256: string;
  readonly serverNotAfter: Date;
}

/**
 * `cert init`: makes the CA if the directory has none (an existing CA is kept: people may have installed it), then
 * issues a new server certificate for `names` and (re)writes the CRL.
 */
export async function initStore(dir: string, names: HostNames, days: number, webRoot?: string): Promise<InitResult> {
  await checkNotUnderWebRoot(dir, webRoot);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const index = await readIndex(dir);
  const caFile = join(dir, STORE_FILES.caCert);
  const keyFile = join(dir, STORE_FILES.caKey);
  let caCreated = false;
  if (!(await exists(keyFile))) {
    const label = `${names.dns[0] ?? names.ips[0] ?? 'localhost'} ${randomBytes(3).toString('hex')}`;
    const made = await createAuthority(label);
    // 'wx' on the key: two `cert init` runs at once must not end with a certificate and a key from different CAs.
    await writeFile(keyFile, keyToPem(made.keyPkcs8), { mode: 0o600, flag: 'wx' });
    await chmod(keyFile, 0o600);
    await writeAtomic(caFile, made.certPem, 0o644);
    index.issued.push(entry('ca', 'ca', made));
    caCreated = true;
  }
  const ca = await openAuthority(dir);
  const server = await issueServer(ca, names, days);
  const serverFile = join(dir, STORE_FILES.server);
  await writeAtomic(serverFile, server.certPem + keyToPem(server.keyPkcs8), 0o600);
  index.issued.push(entry('server', [...names.dns, ...names.ips].join(','), server));
  await writeIndex(dir, index);
  await writeCrl(dir, ca, index);
  return {
    caCreated,
    caFile,
    serverFile,
    crlFile: join(dir, STORE_FILES.crl),
    caFingerprint256: new X509Certificate(ca.certPem).fingerprint256,
    serverFingerprint256: new X509Certificate(server.certPem).fingerprint256,
    serverNotAfter: server.notAfter,
  };
}

/** What `cert user` made. */
export interface UserResult {
  readonly certFile: string;
  readonly p12File: string;
  readonly serial: string;
  readonly notAfter: Date;
}

/**
 * `cert user NAME`: a client certificate for NAME, its `.p12` (password required) and an index line. A name that
 * already has a valid, unrevoked certificate is refused: revoke it first, so no one holds a forgotten second one.
 */
export async function addUser(
  dir: string,
  name: string,
  days: number,
  password: string,
  compat: boolean,
): Promise<UserResult> {
  checkUserName(name);
  if (password.length === 0) throw new CertInputError('the .p12 password must not be empty');
  const ca = await openAuthority(dir);
  const index = await readIndex(dir);
  const now = Date.now();
  if (
    index.issued.some(
      (e) => e.kind === 'user' && e.name === name && e.revokedAt === undefined && Date.parse(e.notAfter) > now,
    )
  ) {
    throw new CertInputError(
      `user '${name}' already has a valid certificate; run 'wsproxy cert revoke ${name}' first to replace it`,
    );
  }
  const user = await issueUser(ca, name, days);
  const caDer = Buffer.from(new X509Certificate(ca.certPem).raw);
  const p12 = await makePkcs12({
    certDer: user.certDer,
    caDers: [caDer],
    keyPkcs8: user.keyPkcs8,
    password,
    friendlyName: name,
    compat,
  });
  const usersDir = join(dir, STORE_FILES.users);
  await mkdir(usersDir, { recursive: true, mode: 0o700 });
  const certFile = join(usersDir, `${name}.crt`);
  const p12File = join(usersDir, `${name}.p12`);
  await writeAtomic(p12File, p12, 0o600);
  await writeAtomic(certFile, user.certPem, 0o644);
  index.issued.push(entry('user', name, user));
  await writeIndex(dir, index);
  return { certFile, p12File, serial: user.serial, notAfter: user.notAfter };
}

/** `cert revoke NAME` (a user name or a serial): marks the certificates revoked and rewrites crl.pem. */
export async function revoke(dir: string, nameOrSerial: string): Promise<{ serials: string[]; crlFile: string }> {
  const ca = await openAuthority(dir);
  const index = await readIndex(dir);
  const wanted = nameOrSerial.toLowerCase().replace(/:/g, '');
  const hits = index.issued.filter(
    (e) =>
      e.kind !== 'ca' &&
      e.revokedAt === undefined &&
      ((e.kind === 'user' && e.name === nameOrSerial) || e.serial === wanted),
  );
  if (hits.length === 0)
    throw new CertInputError(`no unrevoked certificate for '${nameOrSerial}' in '${dir}'; see 'wsproxy cert list'`);
  const at = new Date(Date.now() - 1_000).toISOString();
  index.issued = index.issued.map((e) => (hits.includes(e) ? { ...e, revokedAt: at } : e));
  await writeIndex(dir, index);
  await writeCrl(dir, ca, index);
  return { serials: hits.map((e) => e.serial), crlFile: join(dir, STORE_FILES.crl) };
}

/** `cert list`: the index as it is. */
export async function listIssued(dir: string): Promise<readonly IssuedEntry[]> {
  return (await readIndex(dir)).issued;
}
