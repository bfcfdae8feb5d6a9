/**
 * Files `web` never serves (issue #12 finding 9): the ones wsproxy is configured to use as secrets (certificate and
 * key, token and auth sources, the token-hash key, its own CA's key, recordings, the log, the admin token, the state directory), compared
 * by real path so symlinks and `..` do not get round it, and any file that holds a private key (`*.pem`/`*.key` with
 * a `PRIVATE KEY` block, `*.p12`/`*.pfx`). noVNC's launcher puts `self.pem` in the web root, so this is the common case.
 */
import { existsSync, readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { Config } from '../config/types.js';

/** Judges real paths below the web root. */
export interface WebSecrets {
  /** Whether the file at real path `real` must not be served (answered 404, like a missing file). */
  hides(real: string): Promise<boolean>;
}

type Entry = { kind: 'file' | 'dir' | 'prefix'; path: string };

// A PEM bundle is small; a file larger than this is read only this far (a key block sits near the start).
const PEM_READ_LIMIT = 1 << 20;
const PRIVATE_KEY_BLOCK = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/** The real path of `file`, or of its directory plus its name when it does not exist (yet). */
function realOf(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    try {
      return join(realpathSync(dirname(file)), basename(file));
    } catch {
      return resolve(file);
    }
  }
}

/** A configured source that names an existing path (a token file or directory, a JWT key, a password file). */
function sourcePath(source: string | undefined): Entry | undefined {
  if (source === undefined || source === '' || !source.startsWith('/')) return undefined;
  try {
    return { kind: statSync(source).isDirectory() ? 'dir' : 'file', path: realOf(source) };
  } catch {
    return undefined;
  }
}

/** What `config` uses as secrets, as real paths. */
function configuredSecrets(config: Config): Entry[] {
  const tls = config.tls;
  const files = [
    tls.certFile,
    tls.keyFile,
    config.log.file,
    config.admin?.tokenFile,
    config.tokenHashKey?.file,
    config.targetTls?.certFile,
    config.targetTls?.keyFile,
  ];
  const out: Entry[] = files
    .filter((f): f is string => f !== undefined)
    .map((f) => ({ kind: 'file', path: realOf(f) }));
  // The state directory (generated key, secrets of its own), unless the web root lies in it: then by content only.
  const state = realOf(tls.stateDir);
  const root = config.webRoot === undefined ? undefined : realOf(config.webRoot);
  if (root === undefined || !matches(root, { kind: 'dir', path: state })) out.push({ kind: 'dir', path: state });
  // The certificate from `wsproxy cert init` sits in its store, beside the CA's key and the users' PKCS#12 files.
  const store = dirname(tls.certFile);
  if (existsSync(join(store, 'ca.crt')))
    out.push(
      { kind: 'file', path: realOf(join(store, 'ca.key')) },
      { kind: 'dir', path: realOf(join(store, 'users')) },
    );
  if (config.recordPrefix !== undefined) out.push({ kind: 'prefix', path: realOf(config.recordPrefix) });
  const sources = [config.targets.kind === 'token' ? config.targets.source : undefined, config.auth?.source].map(
    sourcePath,
  );
  return [...out, ...sources.filter((e): e is Entry => e !== undefined)];
}

function matches(real: string, e: Entry): boolean {
  if (e.kind === 'file') return real === e.path;
  if (e.kind === 'dir') return real === e.path || real.startsWith(e.path + sep);
  return real.startsWith(e.path);
}

/** Whether a key or key-bearing file by its name and content. */
async function holdsPrivateKey(real: string): Promise<boolean> {
  const name = real.toLowerCase();
  if (name.endsWith('.p12') || name.endsWith('.pfx')) return true;
  if (!name.endsWith('.pem') && !name.endsWith('.key')) return false;
  const handle = await open(real, 'r');
  try {
    const buf = Buffer.alloc(PEM_READ_LIMIT);
    const { bytesRead } = await handle.read(buf, 0, PEM_READ_LIMIT, 0);
    return PRIVATE_KEY_BLOCK.test(buf.subarray(0, bytesRead).toString('latin1'));
  } finally {
    await handle.close();
  }
}

/** The guard for `config`'s web root. A file that cannot be read to check is hidden too. */
export function webSecrets(config: Config): WebSecrets {
  const entries = configuredSecrets(config);
  return {
    async hides(real) {
      if (entries.some((e) => matches(real, e))) return true;
      try {
        return await holdsPrivateKey(real);
      } catch {
        return true;
      }
    },
  };
}

// The start-up scan is bounded: a web root is a handful of pages, not a file system.
const SCAN_LIMIT = 5_000;
const SCAN_DEPTH = 12;

/**
 * Names (relative to the root) of the files in `rootReal` that {@link webSecrets} hides, for the one warning at
 * start. Dotfiles are never served, so they are skipped; symlinks count by what they point to.
 */
export async function hiddenWebFiles(config: Config, rootReal: string): Promise<string[]> {
  const guard = webSecrets(config);
  const found: string[] = [];
  let seen = 0;
  const walk = async (dir: string, depth: number): Promise<void> => {
    let items: Dirent[];
    try {
      items = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const item of items) {
      if (item.name.startsWith('.') || ++seen > SCAN_LIMIT) continue;
      const full = join(dir, item.name);
      if (item.isDirectory() && depth < SCAN_DEPTH) await walk(full, depth + 1);
      else if (
        (item.isFile() || item.isSymbolicLink()) &&
        existsSync(full) &&
        statSync(full).isFile() &&
        (await guard.hides(realOf(full)))
      )
        found.push(relative(rootReal, full));
    }
  };
  await walk(rootReal, 0);
  return found.sort();
}
