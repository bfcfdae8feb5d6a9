/**
 * `TokenFile` / `ReadOnlyTokenFile`: tokens from a file, or from every regular file in a directory (dotfiles such as
 * editor swap files skipped). `TokenFile` notices edits (checked at most once a second, by modification time and
 * size) and applies them to new connections without a restart; `ReadOnlyTokenFile` reads once at start. A bad line is
 * logged with its file and line number, never its content (it holds a token), and skipped.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ProxyError } from '../errors.js';
import type { Logger } from '../log.js';
import { parseTokenLine } from './token-line.js';
import { existingSource, websockifyAlias } from './source-checks.js';
import type { Resolution, Target, TargetResolver, TokenPlugin } from './types.js';

const RECHECK_MS = 1_000;

function listFiles(source: string): string[] {
  const info = statSync(source);
  if (!info.isDirectory()) return [source];
  return readdirSync(source, { withFileTypes: true })
    .filter((d) => !d.name.startsWith('.'))
    .map((d) => join(source, d.name))
    .filter((f) => {
      try {
        return statSync(f).isFile();
      } catch {
        return false;
      }
    })
    .sort();
}

function signature(files: readonly string[]): string {
  return files
    .map((f) => {
      try {
        const s = statSync(f);
        return `${f}:${s.mtimeMs}:${s.size}`;
      } catch {
        return `${f}:gone`;
      }
    })
    .join('|');
}

function load(source: string, log: Logger): { map: Map<string, Target>; files: string[] } {
  const files = listFiles(source);
  const map = new Map<string, Target>();
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      log.warn('cannot read token file', {
        file,
        error: (err as NodeJS.ErrnoException).code ?? (err as Error).message,
      });
      continue;
    }
    text.split(/\r?\n/).forEach((line, i) => {
      const parsed = parseTokenLine(line);
      if (parsed.kind === 'error')
        log.warn('token file syntax error; line skipped', { file, line: i + 1, problem: parsed.problem });
      else if (parsed.kind === 'entry') {
        if (map.has(parsed.token)) log.warn('token defined twice; the later line wins', { file, line: i + 1 });
        map.set(parsed.token, parsed.target);
      }
    });
  }
  return { map, files };
}

/** Builds a token-file resolver. Throws if the source cannot be read at start. */
export function tokenFileResolver(source: string, options: { watch: boolean; log: Logger }): TargetResolver {
  const { log } = options;
  let state = load(source, log);
  let sig = signature(state.files);
  let checkedAt = Date.now();
  log.info('tokens loaded', { source, tokens: state.map.size });

  const listeners = new Set<() => void>();
  let poll: NodeJS.Timeout | undefined;

  const refresh = (): void => {
    if (!options.watch || Date.now() - checkedAt < RECHECK_MS) return;
    checkedAt = Date.now();
    let files: string[];
    try {
      files = listFiles(source);
    } catch (err) {
      throw new ProxyError('TOKEN_SOURCE_DOWN', `token source ${source} cannot be read`, { cause: err });
    }
    const now = signature(files);
    if (now === sig) return;
    state = load(source, log);
    sig = signature(state.files);
    log.info('tokens reloaded', { source, tokens: state.map.size });
    for (const listener of listeners) listener();
  };

  return {
    name: options.watch ? 'TokenFile' : 'ReadOnlyTokenFile',
    usesToken: true,
    resolve(token: string | undefined): Promise<Resolution> {
      try {
        refresh();
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      const target = token === undefined ? undefined : state.map.get(token);
      return Promise.resolve(target ? { kind: 'found', target } : { kind: 'unknown' });
    },
    ...(options.watch
      ? {
          watch(onChange: () => void): () => void {
            listeners.add(onChange);
            // Someone cares about removals between requests: look at the files on the same once-a-second schedule.
            poll ??= setInterval(() => {
              try {
                refresh();
              } catch (err) {
                log.warn('token source cannot be read; keeping the last tokens', {
                  source,
                  error: (err as Error).message,
                });
              }
            }, RECHECK_MS);
            return () => {
              listeners.delete(onChange);
              if (listeners.size === 0 && poll) {
                clearInterval(poll);
                poll = undefined;
              }
            };
          },
          close(): Promise<void> {
            listeners.clear();
            if (poll) clearInterval(poll);
            poll = undefined;
            return Promise.resolve();
          },
        }
      : {}),
  };
}

/** `TokenFile`: a file or directory of `token: host:port` lines, re-read when it changes. */
export const tokenFilePlugin: TokenPlugin = {
  name: 'TokenFile',
  aliases: [websockifyAlias('TokenFile')],
  parseSource: (text, ctx) => existingSource(text, ctx.cwd, false),
  create: (source, deps) => tokenFileResolver(source, { watch: true, log: deps.log }),
};

/** `ReadOnlyTokenFile`: as TokenFile, read once at start. */
export const readOnlyTokenFilePlugin: TokenPlugin = {
  name: 'ReadOnlyTokenFile',
  aliases: [websockifyAlias('ReadOnlyTokenFile')],
  parseSource: (text, ctx) => existingSource(text, ctx.cwd, false),
  create: (source, deps) => tokenFileResolver(source, { watch: false, log: deps.log }),
};
