/**
 * The client's TLS identity (mod_ssl's `SSL_CLIENT_*` facts), read once from the TLSSocket after the handshake, and
 * the pure decisions made on it: may this connection upgrade, does the certificate match the allowlist. The identity
 * only ever comes from the socket: no header can stand in for it (websockify's case-sensitive `SSL_` strip lets a
 * client forge the CN, websockify.md §b.10.2).
 */
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { ClientCertConfig } from '../config/types.js';
import type { HttpReasonCode } from '../errors.js';

/** What the TLS layer knows about the client's certificate. */
export interface PeerIdentity {
  /** The certificate chains to a trusted CA, is in its validity period, not revoked and within `verifyDepth`. */
  readonly authorized: boolean;
  /** Why not (OpenSSL's code, e.g. CERT_HAS_EXPIRED, CERT_REVOKED), `NO_CERTIFICATE` when none was sent. */
  readonly verifyError: string | undefined;
  /** Whether the client sent a certificate at all (it may be untrusted: gate on `authorized`, never on this). */
  readonly presented: boolean;
  /** Subject DN, RFC 2253-like order as Node prints it (`C=…, O=…, CN=…`). */
  readonly subject: string | undefined;
  /** The subject's (first) common name. */
  readonly cn: string | undefined;
  /** Subject alternative names without their type prefix (DNS names, e-mail addresses, IPs, URIs). */
  readonly sans: readonly string[];
  readonly issuer: string | undefined;
  /** Serial number in upper-case hex. */
  readonly serial: string | undefined;
  /** SHA-256 fingerprint, colon-separated upper-case hex. */
  readonly fingerprint256: string | undefined;
  /** Validity period (ISO 8601). */
  readonly validFrom: string | undefined;
  readonly validTo: string | undefined;
}

/** The identity of a connection whose client sent no certificate (or where none was asked for). */
export const NO_PEER: PeerIdentity = {
  authorized: false,
  verifyError: 'NO_CERTIFICATE',
  presented: false,
  subject: undefined,
  cn: undefined,
  sans: [],
  issuer: undefined,
  serial: undefined,
  fingerprint256: undefined,
  validFrom: undefined,
  validTo: undefined,
};

function dn(text: string | undefined): string | undefined {
  return text === undefined
    ? undefined
    : text
        .split('\n')
        .filter((l) => l.length > 0)
        .join(', ');
}

/** The first `CN=` of a Node-formatted DN (one `key=value` per line). */
export function commonName(subject: string | undefined): string | undefined {
  for (const line of (subject ?? '').split('\n')) {
    if (line.startsWith('CN=')) return line.slice(3);
  }
  return undefined;
}

/** A SAN value as Node prints it: JSON-quoted when it holds a separator (`"a\\u002c DNS:b"`, CVE-2021-44532). */
function unquote(value: string): string {
  if (!value.startsWith('"')) return value;
  const parsed = field(() => JSON.parse(value) as unknown);
  return typeof parsed === 'string' ? parsed : value;
}

/** Splits Node's `subjectAltName` text (`DNS:a, IP Address:1.2.3.4, email:x@y`) into bare values. */
export function altNames(text: string | undefined): string[] {
  if (!text) return [];
  return text
    .split(/,\s*/)
    .map((entry) => {
      const colon = entry.indexOf(':');
      return unquote(colon < 0 ? entry : entry.slice(colon + 1));
    })
    .filter((v) => v.length > 0);
}

/** Intermediate CA certificates between the leaf and the (self-signed) root in the chain Node reports. */
function intermediates(leaf: PeerCertificate): number {
  let count = 0;
  let cert: PeerCertificate = leaf;
  const seen = new Set<PeerCertificate>();
  for (;;) {
    seen.add(cert);
    const issuer = (cert as { issuerCertificate?: PeerCertificate }).issuerCertificate;
    if (issuer === undefined || seen.has(issuer) || issuer === cert) break;
    const issuerIsRoot = (issuer as { issuerCertificate?: PeerCertificate }).issuerCertificate === issuer;
    if (!issuerIsRoot) count++;
    cert = issuer;
  }
  return count;
}

/**
 * One certificate field, or undefined ("unknown") when it cannot be read or parsed: the certificate is the client's
 * bytes, and OpenSSL hands on what it could not decode as text such as "Bad time value" (issue #12, finding 1).
 */
function field<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** An OpenSSL date text as ISO 8601, or undefined when it is not a date (month 13 prints as "Bad time value"). */
export function isoDate(text: string | undefined): string | undefined {
  const ms = text === undefined ? NaN : Date.parse(text);
  return Number.isNaN(ms) ? undefined : field(() => new Date(ms).toISOString());
}

/** The facts of a leaf certificate; each one unknown on its own when it cannot be read. */
function certFacts(raw: Buffer): Omit<PeerIdentity, 'authorized' | 'verifyError' | 'presented'> {
  const x509 = field(() => new X509Certificate(raw));
  const subject = field(() => x509?.subject);
  return {
    subject: field(() => dn(subject)),
    cn: field(() => commonName(subject)),
    sans: field(() => altNames(x509?.subjectAltName)) ?? [],
    issuer: field(() => dn(x509?.issuer)),
    serial: field(() => x509?.serialNumber.toUpperCase()),
    fingerprint256: field(() => x509?.fingerprint256),
    validFrom: field(() => isoDate(x509?.validFrom)),
    validTo: field(() => isoDate(x509?.validTo)),
  };
}

/** The verify result: Node's, narrowed by `verifyDepth`; a chain that cannot be walked fails closed. */
function verifyResult(
  socket: TLSSocket,
  chain: PeerCertificate,
  verifyDepth: number | undefined,
): { authorized: boolean; verifyError: string | undefined } {
  if (!socket.authorized) return { authorized: false, verifyError: String(socket.authorizationError ?? 'UNVERIFIED') };
  if (verifyDepth === undefined) return { authorized: true, verifyError: undefined };
  const depth = field(() => intermediates(chain));
  if (depth === undefined) return { authorized: false, verifyError: 'CERT_CHAIN_UNREADABLE' };
  return depth > verifyDepth
    ? { authorized: false, verifyError: 'CERT_CHAIN_TOO_LONG' }
    : { authorized: true, verifyError: undefined };
}

/**
 * Reads the peer identity once, right after the handshake. `verifyDepth` limits intermediate CAs. Never throws: it
 * runs in the `secureConnection` listener, where an exception would end the process.
 */
export function readPeerIdentity(socket: TLSSocket, verifyDepth?: number): PeerIdentity {
  // One call for the whole chain: on Node 20, calling getPeerX509Certificate() first leaves getPeerCertificate(true)
  // without the issuer chain (measured), which would make `verifyDepth` see no intermediates.
  const chain = field(() => socket.getPeerCertificate(true));
  if (chain === undefined) return { ...NO_PEER, presented: true, verifyError: 'CERT_UNREADABLE' };
  // Without a certificate Node returns an empty object.
  const raw: Buffer | undefined = (chain as Partial<PeerCertificate>).raw;
  if (raw === undefined) return NO_PEER;
  const facts = certFacts(raw);
  // X509Certificate getters that cannot decode a field (a malformed SAN) leave errors on OpenSSL's queue, and the
  // TLS socket reports them as its own error at the next read (measured, Node 20); getPeerCertificate clears it.
  field(() => socket.getPeerCertificate());
  return { ...verifyResult(socket, chain, verifyDepth), presented: true, ...facts };
}

/** Whether `name` matches an allowlist pattern: equal (case-insensitive), or `*.d` = exactly one label before `.d`. */
export function matchesPattern(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  const n = name.toLowerCase();
  if (!p.startsWith('*.')) return p === n;
  const suffix = p.slice(1); // ".example.com"
  if (!n.endsWith(suffix)) return false;
  const label = n.slice(0, n.length - suffix.length);
  return label.length > 0 && !label.includes('.');
}

/** Whether the certificate's CN or one of its SANs matches a pattern (an empty list allows every certificate). */
export function peerMatches(peer: PeerIdentity, patterns: readonly string[]): boolean {
  if (patterns.length === 0) return true;
  const names = [...(peer.cn === undefined ? [] : [peer.cn]), ...peer.sans];
  return patterns.some((p) => names.some((n) => matchesPattern(p, n)));
}

/** The client-certificate gate's answer for one upgrade. */
export type ClientCertVerdict =
  { readonly ok: true } | { readonly ok: false; readonly code: HttpReasonCode; readonly message: string };

/**
 * May this connection upgrade? With client certificates on: a plain connection only with `allowPlain`; a TLS one only
 * with an *authorized* certificate (in optional mode Node shows an untrusted certificate's CN too, so presence means
 * nothing) that matches the allowlist.
 */
export function clientCertVerdict(
  policy: ClientCertConfig | undefined,
  tls: boolean,
  peer: PeerIdentity | undefined,
): ClientCertVerdict {
  if (policy === undefined || policy.mode === 'off') return { ok: true };
  if (!tls) {
    if (policy.allowPlain) return { ok: true };
    return {
      ok: false,
      code: 'CLIENT_CERT_PLAIN',
      message: 'This server requires a client certificate: connect with wss:// (plain ws:// is refused).',
    };
  }
  const p = peer ?? NO_PEER;
  if (!p.authorized) {
    return {
      ok: false,
      code: 'CLIENT_CERT_REQUIRED',
      message: p.presented
        ? `The client certificate was not accepted (${p.verifyError ?? 'unverified'}).`
        : 'A client certificate is required: install one in the browser and reload the page.',
    };
  }
  if (!peerMatches(p, policy.allow)) {
    return {
      ok: false,
      code: 'CLIENT_CERT_NOT_ALLOWED',
      message: 'This client certificate is valid but not allowed here.',
    };
  }
  return { ok: true };
}

/**
 * May an ordinary (non-upgrade) request be served? Only `required` guards them, and then the whole listener: a plain
 * request is refused (unless `allowPlain`, e.g. a balancer in front terminates TLS), a TLS one without an accepted
 * certificate too. `optional` leaves pages and files open: its gate is the upgrade's (issue #12, finding 4).
 */
export function requestCertVerdict(
  policy: ClientCertConfig | undefined,
  tls: boolean,
  peer: PeerIdentity | undefined,
): ClientCertVerdict {
  if (policy?.mode !== 'required') return { ok: true };
  if (!tls) {
    if (policy.allowPlain) return { ok: true };
    return {
      ok: false,
      code: 'HTTPS_REQUIRED',
      message: 'This server requires a client certificate: use https:// (plain http:// is refused).',
    };
  }
  return clientCertVerdict(policy, tls, peer);
}

// A CN is the client's text and may be kilobytes long: a log line keeps its start.
const LOG_CN_MAX = 256;

/** Log fields for a peer: CN (its first 256 characters), fingerprint and verify result (no more: a DN can be long). */
export function peerLogFields(peer: PeerIdentity | undefined): Record<string, string> {
  if (peer === undefined || !peer.presented) return {};
  const cn = peer.cn ?? '';
  return {
    client_cn: cn.length > LOG_CN_MAX ? `${cn.slice(0, LOG_CN_MAX)}…` : cn,
    client_sha256: peer.fingerprint256 ?? '',
    client_verified: peer.authorized ? 'yes' : (peer.verifyError ?? 'no'),
  };
}
