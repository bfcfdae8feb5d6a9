/**
 * Loads an operator's plugin module (`tokenPlugin` ./x.js`, `authPlugin` ./y.js`) once at start: a dynamic
 * import from a file URL, then the default export instantiated (object as is; class with `new`; factory called and
 * awaited) with `{ source, log }`, then checked for the method the interface needs. Every failure is one line naming
 * the flag (PluginModuleError → exit 2). Shared by targets/ and auth/, which may not import each other.
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PluginModuleError } from './errors.js';
import type { Logger } from './log.js';

/** What a class or factory default export is called with. */
export interface PluginOptions {
  /** `tokenSource`/`authSource`, as given (undefined when not given; may be a secret: never log it). */
  readonly source: string | undefined;
  /** A logger for the plugin (lines carry `plugin=<file name>`; do not log tokens). */
  readonly log: Logger;
}

/** Whether a `tokenPlugin`/`authPlugin` value names a module file rather than a built-in plugin. Pure. */
export function isModulePath(value: string): boolean {
  return value.includes('/') || /\.m?js$/i.test(value);
}

function isClass(fn: unknown): boolean {
  return typeof fn === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

/** `text` with every occurrence of `secret` replaced by `***` (first 300 characters). Pure. */
export function hideSecret(text: string, secret: string | undefined): string {
  return (secret !== undefined && secret.length > 0 ? text.split(secret).join('***') : text).slice(0, 300);
}

/**
 * Loads `file` (absolute) and instantiates what it exports; `method` is the one it must have (`resolve`, `check`).
 * Throws PluginModuleError with a one-line message.
 */
export async function loadPluginModule(
  flag: string,
  file: string,
  options: PluginOptions,
  method: string,
): Promise<unknown> {
  let exported: unknown;
  try {
    if (!statSync(file).isFile()) throw new Error('not a file');
    const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
    exported = mod.default;
  } catch (err) {
    const first = ((err as Error).message || String(err)).split('\n')[0] ?? '';
    throw new PluginModuleError(
      `${flag}: cannot load ${file} (${first}); give an ES module file with a default export`,
    );
  }
  let instance: unknown = exported;
  try {
    if (isClass(exported)) instance = new (exported as new (o: PluginOptions) => unknown)(options);
    else if (typeof exported === 'function') instance = await (exported as (o: PluginOptions) => unknown)(options);
  } catch (err) {
    // The source may be a secret (an `authSource` password) that the plugin put into its message.
    const first = hideSecret(((err as Error).message || String(err)).split('\n')[0] ?? '', options.source);
    throw new PluginModuleError(`${flag}: ${basename(file)} failed to start (${first})`);
  }
  if (
    typeof instance !== 'object' ||
    instance === null ||
    typeof (instance as Record<string, unknown>)[method] !== 'function'
  ) {
    throw new PluginModuleError(
      `${flag}: the default export of ${basename(file)} must be an object with a ${method}() method, or a class or factory returning one`,
    );
  }
  return instance;
}

/**
 * The built-in plugin `given` names, from a kind's list (TOKEN_PLUGINS, AUTH_PLUGINS): a name or alias whose last
 * dotted part matches ignoring case (websockify's class names) and whose module path, if any, matches exactly.
 */
export function findPlugin<P extends { readonly name: string; readonly aliases: readonly string[] }>(
  list: readonly P[],
  given: string,
): P | undefined {
  const same = (known: string): boolean => {
    const cut = known.lastIndexOf('.') + 1;
    return (
      given.slice(0, cut) === known.slice(0, cut) && given.slice(cut).toLowerCase() === known.slice(cut).toLowerCase()
    );
  };
  return list.find((p) => same(p.name) || p.aliases.some(same));
}
