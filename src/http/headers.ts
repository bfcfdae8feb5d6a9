/** Response headers every page and refusal carries. */

/**
 * Strict by default: scripts, styles and connections only from this origin; no framing; no referrer; no sniffing.
 * `connect-src 'self'` covers ws:/wss: to the same host and port (CSP Level 3).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * For `web` DIR` files (noVNC, an operator's own app): the directory owner's pages, so no Content-Security-Policy
 * unless `webCsp` gives one (a strict one broke noVNC's `vnc_lite.html`, whose script and styles are inline).
 * Pages of this same origin may frame them (noVNC's own embedding).
 */
export function webRootHeaders(csp: string | undefined): Readonly<Record<string, string>> {
  const headers: Record<string, string> = { ...SECURITY_HEADERS, 'X-Frame-Options': 'SAMEORIGIN' };
  if (csp === undefined) delete headers['Content-Security-Policy'];
  else headers['Content-Security-Policy'] = csp;
  return headers;
}
