/**
 * `UnixDomainSocketDirectory`: the token names a unix socket in a directory. websockify checks a prefix of a path it
 * never normalised, so `?token=..%2F..%2Frun%2Fdocker.sock` escapes (websockify.md §b.10.1). Here the token must be a
 * plain name, the real path must stay inside the real directory, and the file must be a socket.
 */
import { realpathSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { existingSource, websockifyAlias } from './source-checks.js';
import type { Resolution, TargetResolver, TokenPlugin } from './types.js';

/** Builds the resolver on `dir` (must exist). */
export function unixSocketDirResolver(dir: string): TargetResolver {
  const root = realpathSync(dir);
  const unknown: Resolution = { kind: 'unknown' };
  return {
    name: 'UnixDomainSocketDirectory',
    usesToken: true,
    async resolve(token: string | undefined): Promise<Resolution> {
      if (token === undefined || token.startsWith('.') || /[/\\\0]/.test(token)) return unknown;
      try {
        const real = await realpath(join(root, token));
        if (!real.startsWith(root + sep)) return unknown;
        if (!(await stat(real)).isSocket()) return unknown;
        return { kind: 'found', target: { kind: 'unix', path: real } };
      } catch {
        return unknown;
      }
    },
  };
}

/** `UnixDomainSocketDirectory`: a directory of unix sockets named by token. */
export const unixSocketDirPlugin: TokenPlugin = {
  name: 'UnixDomainSocketDirectory',
  aliases: [websockifyAlias('UnixDomainSocketDirectory')],
  parseSource: (text, ctx) => existingSource(text, ctx.cwd, true),
  create: (source) => unixSocketDirResolver(source),
};
