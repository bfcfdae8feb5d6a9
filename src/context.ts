/** The per-connection facts every stage after accept reads: one object, made by server/accept.ts, passed down. */
import type { Logger } from './log.js';
import type { PeerIdentity } from './tls/peer.js';

/** One client connection (which may carry several HTTP requests, or one WebSocket session). */
export interface ConnectionContext {
  /** Process-unique connection number, on every log line of this connection. */
  readonly id: number;
  /**
   * Client address (IPv4-mapped IPv6 shown as plain IPv4): the real client's once a trusted PROXY protocol header or
   * (per request) `Forwarded`/`X-Forwarded-For` said so; logs, per-IP limits, auth and token sources all read this.
   */
  remoteAddress: string;
  remotePort: number;
  /** The direct TCP peer, when it is not the client (a balancer that sent a PROXY header). */
  proxyPeer?: string | undefined;
  /** The address the client connected to (from the PROXY header when there is one), for `proxyProtocolOut`. */
  localAddress?: string | undefined;
  localPort?: number | undefined;
  /** Whether the client speaks TLS on this connection. */
  tls: boolean;
  /** Logger whose lines carry `conn`, `peer` (and `tls` once known). */
  log: Logger;
  /** The client certificate's identity, read once after the TLS handshake (only when client certificates are on). */
  peer?: PeerIdentity;
  /**
   * Set on connections from a trusted reverse proxy with `trustForwarded`, whose own address says nothing about
   * the client: counts the request's forwarded client against `maxConnectionsPerIp` (`hold`: for the rest of
   * the connection, as an upgrade does; else only checks). False when that client is at its cap.
   */
  countClient?: ((address: string, hold: boolean) => boolean) | undefined;
  /** Stops the handshake deadline: the request headers are in. */
  handshakeDone(): void;
}
