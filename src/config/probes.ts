/**
 * The I/O config needs, behind one small interface: the resolvers and rules stay pure and take a `ConfigProbes`
 * (the real one by default), so unit tests drive them with a plain object instead of files and OpenSSL.
 */
import { readFileSync, statSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { ConfigError } from '../errors.js';

export interface ConfigProbes {
  /** Whether `path` is a regular file (following symlinks); false when it cannot be read. */
  isFile(path: string): boolean;
  /** Whether `path` is a directory (following symlinks); false when it cannot be read. */
  isDirectory(path: string): boolean;
  /** The file's text; throws the system error (with its `code`) when it cannot be read. */
  readText(path: string): string;
  /** Whether OpenSSL accepts a cipher string (`TLS_` names are TLS 1.3 suites, the rest the TLS 1.2 list). */
  ciphersAccepted(list: string): boolean;
  /** Whether OpenSSL supports one key-exchange group (`X25519`, `P-256`, …). */
  groupSupported(group: string): boolean;
  /** Cores this process may use (honours CPU affinity and cgroup limits). */
  cores(): number;
  /** The user's home directory (the state directory's fallback). */
  homedir(): string;
}

function stats(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

// OpenSSL's answer is whether a context can be built with the value.
function contextBuilds(options: { ciphers?: string; ecdhCurve?: string }): boolean {
  try {
    createSecureContext(options);
    return true;
  } catch {
    return false;
  }
}

/** The real disk, OpenSSL and OS. */
export const realProbes: ConfigProbes = {
  isFile: (path) => stats(path)?.isFile() ?? false,
  isDirectory: (path) => stats(path)?.isDirectory() ?? false,
  readText: (path) => readFileSync(path, 'utf8'),
  ciphersAccepted: (list) => contextBuilds({ ciphers: list }),
  groupSupported: (group) => contextBuilds({ ecdhCurve: group }),
  cores: () => availableParallelism(),
  homedir: () => homedir(),
};

/** `path` (against `cwd`) made absolute, which must be a readable file; else the option's one-line error. */
export function requireFile(probes: ConfigProbes, cwd: string, path: string, name: string, what: string): string {
  const abs = resolve(cwd, path);
  if (!probes.isFile(abs)) throw new ConfigError(name, `${name}: '${abs}' is not a readable file; give ${what}`);
  return abs;
}
