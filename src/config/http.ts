/** What ordinary HTTP requests get: the web root and its CSP, allowed origins, and the HTTP upstream. */
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { CliArgs } from './options/index.js';
import { normaliseOrigin, parseHttpUpstream } from './addresses.js';
import { flag } from './options/index.js';
import { splitList } from './parse.js';
import type { ConfigProbes } from './probes.js';
import { checkRules, HTTP_UPSTREAM_RULES, WEB_CSP_RULES } from './rules.js';
import type { Config } from './types.js';

/** The absolute web root, which must be a directory; undefined for the built-in pages. */
export function resolveWebRoot(args: CliArgs, cwd: string, probes: ConfigProbes): string | undefined {
  if (args.web === undefined) return undefined;
  const webRoot = resolve(cwd, args.web);
  if (!probes.isDirectory(webRoot)) {
    const name = flag('web');
    throw new ConfigError(
      name,
      `${name}: '${webRoot}' is not a directory; give the folder to serve (e.g. /usr/share/novnc)`,
    );
  }
  return webRoot;
}

/** The CSP of web files: one header value (no control characters, so no header injection); it needs a web root. */
export function resolveWebCsp(args: CliArgs): Pick<Config, 'webCsp'> {
  if (args.webCsp === undefined) return {};
  checkRules(WEB_CSP_RULES, args);
  const value = args.webCsp.trim();
  // eslint-disable-next-line no-control-regex
  if (value === '' || /[\x00-\x1f\x7f]/.test(value)) {
    const name = flag('webCsp');
    throw new ConfigError(
      name,
      `${name}: give one Content-Security-Policy value on one line, e.g. "default-src 'self'"`,
    );
  }
  return { webCsp: value };
}

/** Allowed origins, normalised; entries may be separated by spaces or commas. */
export function resolveAllowOrigins(args: CliArgs): string[] {
  return splitList(args.allowOrigin).map(normaliseOrigin);
}

/** The HTTP upstream and the option that goes with it. */
export function resolveHttpUpstream(args: CliArgs): Pick<Config, 'httpUpstream' | 'upstreamUnderscoreHeaders'> {
  checkRules(HTTP_UPSTREAM_RULES, args);
  if (args.httpUpstream === undefined) return {};
  return {
    httpUpstream: parseHttpUpstream(args.httpUpstream),
    ...(args.upstreamUnderscoreHeaders === true ? { upstreamUnderscoreHeaders: true } : {}),
  };
}
