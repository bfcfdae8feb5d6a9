/**
 * Static files for `web` DIR` and the built-in pages: GET/HEAD only, no directory listings, no dotfiles, no
 * redirects (a Location built from the request path is CVE-2021-3654's open redirect), `index.html` for a directory,
 * and the real path of every file must lie inside the real root (symlinks cannot lead out).
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join, sep } from 'node:path';
import mime from 'mime';
import { SECURITY_HEADERS } from './headers.js';

/** Outcome of mapping a URL path onto the root. */
export type StaticPath = { ok: true; segments: string[] } | { ok: false; status: 400 | 404 };

/**
 * Maps a request path (without query) to path segments below the root, or says why not. Pure: decodes each segment
 * once, refuses NUL, backslashes, encoded slashes and any segment starting with a dot (covers `..` and dotfiles).
 */
export function resolveStaticPath(urlPath: string): StaticPath {
  if (!urlPath.startsWith('/')) return { ok: false, status: 400 };
  const segments: string[] = [];
  for (const raw of urlPath.split('/')) {
    if (raw === '') continue;
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return { ok: false, status: 400 };
    }
    if (seg.includes('\0')) return { ok: false, status: 400 };
    if (seg.includes('/') || seg.includes('\\') || seg.startsWith('.')) return { ok: false, status: 404 };
    segments.push(seg);
  }
  return { ok: true, segments };
}

/** Content type for a file name (charset for text types). */
export function contentTypeOf(file: string): string {
  const type = mime.getType(file) ?? 'application/octet-stream';
  return type.startsWith('text/') || type === 'application/javascript' || type === 'application/json'
    ? `${type}; charset=utf-8`
    : type;
}

/**
 * Serves the file for `segments` under `root` (an already real, absolute directory). Answers 404 for anything that is
 * not a regular file inside the root, and for a real path `hides` names (secrets under `web`). Returns the status sent.
 */
export async function serveStatic(
  res: ServerResponse,
  rootReal: string,
  segments: readonly string[],
  method: string,
  headers: Readonly<Record<string, string>> = SECURITY_HEADERS,
  hides: (real: string) => Promise<boolean> = () => Promise.resolve(false),
): Promise<number> {
  let file = join(rootReal, ...segments);
  let real: string;
  try {
    real = await realpath(file);
    if (real !== rootReal && !real.startsWith(rootReal + sep)) return notFound(res);
    let info = await stat(real);
    if (info.isDirectory()) {
      file = join(real, 'index.html');
      real = await realpath(file);
      if (!real.startsWith(rootReal + sep)) return notFound(res);
      info = await stat(real);
    }
    if (!info.isFile() || (await hides(real))) return notFound(res);
    res.writeHead(200, {
      'Content-Type': contentTypeOf(real),
      'Content-Length': String(info.size),
      'Last-Modified': info.mtime.toUTCString(),
      'Cache-Control': 'no-cache',
      ...headers,
    });
    if (method === 'HEAD') {
      res.end();
      return 200;
    }
    await new Promise<void>((resolve) => {
      const stream = createReadStream(real);
      stream.on('error', () => {
        res.destroy();
        resolve();
      });
      res.on('close', () => {
        stream.destroy();
        resolve();
      });
      stream.pipe(res);
    });
    return 200;
  } catch {
    return notFound(res);
  }
}

function notFound(res: ServerResponse): number {
  if (res.headersSent) {
    res.destroy();
    return 404;
  }
  const body = '404 Not Found\n';
  res.writeHead(404, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(body.length),
    // The same stable reason as every other refusal; a hidden secret and a missing file look alike.
    'X-Wsproxy-Reason': 'NOT_FOUND',
    ...SECURITY_HEADERS,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
  return 404;
}
