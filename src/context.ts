/** The per-connection facts every stage after accept reads: one object, made by server.ts, passed down. */
import type { Logger } from './log.js';
import type { PeerIdentity } from './tls/peer.js';

/** One client connection (which may carry several HTTP requests, or one WebSocket session). */
export interface ConnectionContext {
  /** Process-unique connection number, on every log line of this connection. */
  readonly id: number;
  /** Client address (IPv4-mapped IPv6 shown as plain IPv4). */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Whether the client speaks TLS on this connection. */
  tls: boolean;
  /** Logger whose lines carry `conn`, `peer` (and `tls` once known). */
  log: Logger;
  /** The client certificate's identity, read once after the TLS handshake (only when client certificates are on). */
  peer?: PeerIdentity;
  /** Stops the handshake deadline: the request headers are in. */
  handshakeDone(): void;
}
