/**
 * `token_hash`: the name a token goes by in logs, `/sessions`, recordings and Redis key names. A keyed hash
 * (HMAC-SHA-256, first 48 bits as 12 hex digits, the format of the unsalted hash it replaces): without the key, a
 * short token cannot be found by hashing guesses. The key is one per installation (a file in the state dir, made on
 * first use) or shared by a fleet (`tokenHashKeyFile`), so the same token has the same hash on every node.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

// Until a key is installed (library use, tests building a Config by hand), a random one: hashes are stable only
// within this process, but never the bare SHA-256 of the token.
let key: Buffer = randomBytes(32);

/** The hash of `token` under the installed key (see {@link useTokenHashKey}). */
export function tokenHash(token: string): string {
  return tokenHashWith(key, token);
}

/** The hash of `token` under `secret` (pure; for tests and tools). */
export function tokenHashWith(secret: Buffer, token: string): string {
  return createHmac('sha256', secret).update(token, 'utf8').digest('hex').slice(0, 12);
}

/** Installs the key every later {@link tokenHash} uses (one per process: all of its servers share it). */
export function useTokenHashKey(secret: Buffer): void {
  key = secret;
}

const MIN_KEY_BYTES = 16;

/** A key file's secret: its bytes without a trailing newline. Throws a one-line error when it is too short. */
export async function readTokenHashKey(file: string): Promise<Buffer> {
  const text = (await readFile(file)).toString('utf8').replace(/\r?\n$/, '');
  if (Buffer.byteLength(text) < MIN_KEY_BYTES)
    throw new Error(
      `${file}: the token hash key must be at least ${MIN_KEY_BYTES} characters (e.g. openssl rand -hex 32)`,
    );
  return Buffer.from(text, 'utf8');
}

/**
 * Makes `file` (mode 0600, 32 random bytes as hex) unless it exists; says whether it was made. Atomic: the key is
 * written to a private temporary file and linked into place, so processes racing on a fresh state dir (workers) all
 * end up with the one key that won, and nobody ever reads a half-written file.
 */
export async function ensureTokenHashKey(file: string): Promise<boolean> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(
    temp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    await handle.writeFile(`${randomBytes(32).toString('hex')}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** Installs the key `where` names, making the `stateDir` file first when none was given; says whether it was made. */
export async function loadTokenHashKey(where: { readonly file: string; readonly given: boolean }): Promise<boolean> {
  const made = where.given ? false : await ensureTokenHashKey(where.file);
  useTokenHashKey(await readTokenHashKey(where.file));
  return made;
}
