/** `tokenSource` checks shared by several token plugins (each plugin's descriptor picks its own). */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { flag } from '../config/options/index.js';

/** A file or directory (`needsDir`: a directory) relative to `cwd`; answers the absolute path. */
export function existingSource(text: string, cwd: string, needsDir: boolean): string {
  const path = resolve(cwd, text);
  let exists: boolean;
  try {
    const st = statSync(path);
    exists = needsDir ? st.isDirectory() : st.isFile() || st.isDirectory();
  } catch {
    exists = false;
  }
  if (!exists)
    throw new ConfigError(
      flag('tokenSource'),
      `${flag('tokenSource')}: '${path}' is not ${needsDir ? 'a directory' : 'a file or directory'}`,
    );
  return path;
}

/** An http(s) URL template with `%s` where the token goes (BaseTokenAPI, JSONTokenApi). */
export function tokenApiTemplate(text: string, plugin: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text.replace('%s', 'x'));
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !text.includes('%s')) {
    throw new ConfigError(
      flag('tokenSource'),
      `${flag('tokenPlugin')} ${plugin} needs an http(s) URL with %s where the token goes, e.g. https://api.example/lookup/%s`,
    );
  }
  return text;
}

/** websockify's dotted class path for a token plugin name. */
export function websockifyAlias(name: string): string {
  return `websockify.token_plugins.${name}`;
}
