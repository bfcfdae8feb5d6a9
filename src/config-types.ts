/**
 * Config types the plugin folders (targets/, auth/ via tls/peer.ts) need, kept below config.ts: config imports the
 * plugin lists (targets/registry.ts, auth/registry.ts) to validate plugin names, so the plugins may not import config.
 * config.ts re-exports every type here; import them from there everywhere else.
 */

/** Where a session is relayed to. */
export type Target =
  // proxyProtocol: a per-target override of --proxy-protocol-out (JSONTokenApi's "proxy_protocol"); 'none' turns it off.
  | { kind: 'tcp'; host: string; port: number; proxyProtocol?: 'v1' | 'v2' | 'none' }
  | { kind: 'unix'; path: string; proxyProtocol?: 'v1' | 'v2' | 'none' };

/** `--verify-client` modes (nginx's names): off, optional (403 at the upgrade without a verified cert), required. */
export type VerifyClientMode = 'off' | 'optional' | 'required';

/** Client-certificate settings. */
export interface ClientCertConfig {
  readonly mode: VerifyClientMode;
  /** CA certificates (PEM) client certificates must chain to; undefined = the system roots (websockify's default). */
  readonly caFile: string | undefined;
  /** CRL file (PEM) checked for the client certificate. */
  readonly crlFile: string | undefined;
  /** Most intermediate CA certificates allowed between the client certificate and the trusted CA. */
  readonly verifyDepth: number | undefined;
  /** Let plain ws:// upgrades through although client certificates are on. */
  readonly allowPlain: boolean;
  /** CN/SAN patterns (`*.` wildcards) a verified certificate must match; empty = any verified certificate. */
  readonly allow: readonly string[];
}
