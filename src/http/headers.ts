/** Response headers every page and refusal carries. */

/**
 * Strict by default: scripts, styles and connections only from this origin; no framing; no referrer; no sniffing.
 * `connect-src 'self'` covers ws:/wss: to the same host and port (CSP Level 3).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * For `--web` content (noVNC, an operator's own app): the same, except that pages of this same origin may frame it
 * (noVNC's own embedding). noVNC 1.3+ loads only external scripts, so `default-src 'self'` fits it.
 */
export const WEB_ROOT_HEADERS: Readonly<Record<string, string>> = {
  ...SECURITY_HEADERS,
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'self'; frame-ancestors 'self'; form-action 'self'",
  'X-Frame-Options': 'SAMEORIGIN',
};
