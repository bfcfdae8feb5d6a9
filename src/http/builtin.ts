/**
 * The built-in pages (when no `web` is given): `web/` from the package, plus `/wsproxy/info.json`, which tells the
 * page the certificate's fingerprint, names and expiry, and whether the demo echo target is running. Nothing in the
 * answer comes from the request, so the page cannot be made to show attacker text.
 */
import { realpathSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { SECURITY_HEADERS } from './headers.js';

/** The package's `web/` directory (compiled code lives in dist/src/http/). */
export const BUILTIN_WEB_ROOT = realpathSync(fileURLToPath(new URL('../../../web/', import.meta.url)));

/**
 * The `@novnc/novnc` package root: its ESM `core/` and `vendor/` trees are served under `/novnc/` for the viewer.
 * Undefined if the package is not installed (the viewer then reports that it cannot load).
 */
export const NOVNC_ROOT: string | undefined = (() => {
  try {
    // The package exports core/rfb.js; its root is one folder up.
    return realpathSync(fileURLToPath(new URL('../', import.meta.resolve('@novnc/novnc'))));
  } catch {
    return undefined;
  }
})();

/** Maps `/novnc/core/...` and `/novnc/vendor/...` path segments to segments below NOVNC_ROOT, else undefined. */
export function novncSegments(segments: readonly string[]): string[] | undefined {
  if (segments[0] !== 'novnc' || (segments[1] !== 'core' && segments[1] !== 'vendor')) return undefined;
  return segments.slice(1);
}

/** Path of the info document. */
export const INFO_PATH = '/wsproxy/info.json';

/** What the built-in page is told. */
export interface BuiltinInfo {
  readonly version: string;
  readonly demo: boolean;
  readonly websocketPath: string;
  readonly certificate:
    | {
        readonly loaded: true;
        readonly fingerprint256: string;
        readonly subject: string;
        readonly names: readonly string[];
        readonly validTo: string;
      }
    | { readonly loaded: false };
  /** wsproxy's own CA behind the certificate, offered at {@link CA_PATH}; absent otherwise. */
  readonly ca?:
    | { readonly path: string; readonly fingerprint256: string; readonly subject: string; readonly validTo: string }
    | undefined;
}

/** Where the built-in pages offer wsproxy's own CA certificate. */
export const CA_PATH = '/ca.crt';

/**
 * Sends the CA certificate (PEM; only the certificate, never a key) as a download browsers and phones recognise:
 * `application/x-x509-ca-cert` makes iOS offer a profile and Android/desktop offer to install or save it.
 */
export function sendCaCert(res: ServerResponse, pem: string, method: string): void {
  res.writeHead(200, {
    'Content-Type': 'application/x-x509-ca-cert',
    'Content-Length': String(Buffer.byteLength(pem)),
    'Content-Disposition': 'attachment; filename="wsproxy-ca.crt"',
    'Cache-Control': 'no-store',
    ...SECURITY_HEADERS,
  });
  res.end(method === 'HEAD' ? undefined : pem);
}

/** Sends the info document. */
export function sendInfo(res: ServerResponse, info: BuiltinInfo, method: string): void {
  const body = JSON.stringify(info);
  res.writeHead(200, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    ...SECURITY_HEADERS,
  });
  res.end(method === 'HEAD' ? undefined : body);
}
