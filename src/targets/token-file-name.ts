/**
 * `TokenFileName`: a directory with one file per token, named by the token, holding `host:port` (or
 * `unix_socket:/path`). Only a plain base name is looked up (no separators, no dotfiles), and the file's real path
 * must stay inside the directory, so a token cannot reach another file.
 */
import { readFile, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { realpathSync } from 'node:fs';
import { ProxyError, errnoCode } from '../errors.js';
import { parseTargetValue } from './token-line.js';
import { existingSource, websockifyAlias } from './source-checks.js';
import type { Resolution, TargetResolver, TokenPlugin } from './types.js';

/** Builds the resolver; throws if `dir` is not a readable directory. */
export function tokenFileNameResolver(dir: string): TargetResolver {
  const root = realpathSync(dir);
  const unknown: Resolution = { kind: 'unknown' };
  return {
    name: 'TokenFileName',
    usesToken: true,
    async resolve(token: string | undefined): Promise<Resolution> {
      if (token === undefined || token.startsWith('.') || /[/\\\0]/.test(token)) return unknown;
      let text: string;
      try {
        const real = await realpath(join(root, token));
        if (!real.startsWith(root + sep)) return unknown;
        text = await readFile(real, 'utf8');
      } catch (err) {
        const code = errnoCode(err);
        // A token longer than a file name may be (ENAMETOOLONG) names no file: unknown, not a broken source.
        if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'ENAMETOOLONG') return unknown;
        throw new ProxyError('TOKEN_SOURCE_DOWN', `token directory ${root} cannot be read (${code ?? 'error'})`, {
          cause: err,
        });
      }
      const line = text
        .split(/\r?\n/)
        .map((l) => l.trim())
        .find((l) => l !== '' && !l.startsWith('#'));
      const target = line === undefined ? 'empty' : parseTargetValue(line);
      return typeof target === 'string' ? unknown : { kind: 'found', target };
    },
  };
}

/** `TokenFileName`: a directory with one file per token. */
export const tokenFileNamePlugin: TokenPlugin = {
  name: 'TokenFileName',
  aliases: [websockifyAlias('TokenFileName')],
  parseSource: (text, ctx) => existingSource(text, ctx.cwd, true),
  create: (source) => tokenFileNameResolver(source),
};
