/**
 * The header rules of `httpUpstream`, pure: hop-by-hop headers (RFC 9110 §7.6.1) removed both ways, including those
 * named in `Connection`; forwarding facts replaced rather than appended; the client certificate stated from the TLS
 * socket only, never from a client's header.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { applyFraming, upstreamFraming } from './framing.js';
import type { PeerIdentity } from '../tls/peer.js';
import { bracketHost, ipFamily } from '../net/address.js';

// RFC 9110 §7.6.1 connection-specific fields, plus Proxy-* (meant for this hop) and the non-standard ones proxies
// commonly drop. `Expect` is answered by our own HTTP server (100 Continue) before the request reaches us.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'http2-settings',
]);

// Facts only wsproxy may state: the client's own copies are removed before ours are set.
const FORWARDING = /^(?:forwarded|x-forwarded-.*|x-real-ip)$/;
// Client certificate facts in the style of nginx/Apache/websockify (X-SSL-Client-*, SSL_CLIENT_*, X-Client-Cert...).
// A client must never be able to send these itself (websockify's case-sensitive filter is §b.10 #2).
const CLIENT_CERT = /^(?:x-ssl-client-.*|ssl[-_]client[-_].*|x-client-cert.*|x-client-verify|x-client-dn)$/;

/** Names listed in `Connection` headers (they are hop-by-hop too). Pure. */
export function connectionTokens(value: string | string[] | undefined): Set<string> {
  const out = new Set<string>();
  for (const line of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
    for (const item of line.split(',')) {
      const name = item.trim().toLowerCase();
      if (name !== '') out.add(name);
    }
  }
  return out;
}

/** Which client headers may not reach the upstream, besides those named in `Connection`. */
export interface HeaderFilter {
  /** Remove `Authorization` (`UpstreamOptions.stripAuthorization` in upstream.ts). */
  readonly stripAuthorization: boolean;
  /** Keep names with `_` (`UpstreamOptions.underscoreHeaders`); protected names are dropped after folding anyway. */
  readonly underscoreHeaders?: boolean;
}

/**
 * Whether a client header `name` (lower case) stays out of the upstream request. CGI, WSGI and PHP read `X_Real_IP`
 * and `X-Real-IP` as the same HTTP_X_REAL_IP, so protected names are matched with `_` folded to `-`. Pure.
 */
export function dropsHeader(name: string, named: ReadonlySet<string>, filter: HeaderFilter): boolean {
  if (name.includes('_') && filter.underscoreHeaders !== true) return true;
  const folded = name.replace(/_/g, '-');
  if (
    HOP_BY_HOP.has(folded) ||
    named.has(name) ||
    named.has(folded) ||
    FORWARDING.test(folded) ||
    CLIENT_CERT.test(folded)
  )
    return true;
  // Framing is set by upstreamFraming; a `Content_Length` would read as a second Content-Length to a CGI application.
  if (folded === 'content-length') return true;
  return filter.stripAuthorization && folded === 'authorization';
}

/**
 * The headers to send upstream: the client's, minus hop-by-hop and forwarding/certificate facts, plus ours. Pure.
 * `Host` is kept (the application sees the name the user typed) and repeated as `X-Forwarded-Host`. The body's framing
 * is set last, from the client's own (chunked stays chunked, a length stays that length).
 */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  facts: { remoteAddress: string; tls: boolean; localPort: number | undefined; peer?: PeerIdentity | undefined },
  filter: HeaderFilter,
): IncomingHttpHeaders {
  const named = connectionTokens(incoming.connection);
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || dropsHeader(name, named, filter)) continue;
    out[name] = value;
  }
  const proto = facts.tls ? 'https' : 'http';
  out['x-forwarded-for'] = facts.remoteAddress;
  out['x-forwarded-proto'] = proto;
  if (incoming.host !== undefined) out['x-forwarded-host'] = incoming.host;
  if (facts.localPort !== undefined) out['x-forwarded-port'] = String(facts.localPort);
  const forAddr = ipFamily(facts.remoteAddress) === 6 ? `"${bracketHost(facts.remoteAddress)}"` : facts.remoteAddress;
  out.forwarded = `for=${forAddr};proto=${proto}${incoming.host === undefined ? '' : `;host="${incoming.host.replace(/["\\]/g, '')}"`}`;
  // The client's own copies were dropped above; these come from the TLS socket only.
  if (facts.tls) Object.assign(out, clientCertHeaders(facts.peer));
  applyFraming(out, upstreamFraming(incoming));
  return out;
}

/**
 * A header value from certificate text: printable ASCII kept, anything else (CR, LF, UTF-8) percent-encoded as UTF-8
 * bytes. Not encodeURIComponent: it throws on a lone surrogate, and this text comes from the client's certificate.
 */
export function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]+/g, (run) =>
    [...Buffer.from(run, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

/**
 * The client certificate as `X-SSL-Client-*` headers (mod_ssl's SSL_CLIENT_* facts, nginx's naming). `Verify` is
 * always sent over TLS (`SUCCESS`, `FAILED:<reason>` or `NONE`); the identity only for a verified certificate, so an
 * application can never mistake an untrusted certificate's CN for a user. Pure.
 */
export function clientCertHeaders(peer: PeerIdentity | undefined): Record<string, string> {
  if (peer === undefined || !peer.presented) return { 'x-ssl-client-verify': 'NONE' };
  if (!peer.authorized) return { 'x-ssl-client-verify': `FAILED:${headerSafe(peer.verifyError ?? 'UNKNOWN')}` };
  const out: Record<string, string> = { 'x-ssl-client-verify': 'SUCCESS' };
  const set = (name: string, value: string | undefined): void => {
    if (value !== undefined && value !== '') out[name] = headerSafe(value);
  };
  set('x-ssl-client-s-dn', peer.subject);
  set('x-ssl-client-s-dn-cn', peer.cn);
  set('x-ssl-client-san', peer.sans.join(', '));
  set('x-ssl-client-i-dn', peer.issuer);
  set('x-ssl-client-serial', peer.serial);
  set('x-ssl-client-fingerprint', peer.fingerprint256);
  set('x-ssl-client-v-start', peer.validFrom);
  set('x-ssl-client-v-end', peer.validTo);
  return out;
}

/** The response headers to send to the client: the upstream's minus hop-by-hop ones. Pure. */
export function clientResponseHeaders(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = connectionTokens(upstream.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}
