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
