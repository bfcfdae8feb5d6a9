/**
 * The TLS server's two hooks: after a handshake, the client certificate is read once and a required one enforced
 * (Node never rejects it itself: rejectUnauthorized is false, so the refusal gets a line that says why), and the
 * TLS socket is mapped to its connection; a failed handshake is one debug line and a refusal event.
 */
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { guard, logInternalError } from '../boundary.js';
import { errnoCode } from '../errors.js';
import { claimSocket } from '../events.js';
import { peerLogFields, readPeerIdentity } from '../tls/peer.js';
import type { ServerParts, ServerState } from './state.js';

/** Maps a TLS socket to its connection, after reading (and, when required, enforcing) the client certificate. */
function onSecureConnection(parts: ServerParts, state: ServerState, tlsSocket: TLSSocket): void {
  const conn = parts.tlsHandoff.getStore();
  if (!conn) {
    tlsSocket.destroy(); // cannot happen: every TLS socket is handed off inside tlsHandoff.run
    return;
  }
  const clientCert = state.runtime.config.tls.clientCert;
  if (clientCert !== undefined && clientCert.mode !== 'off') {
    // Read once: everything later (upgrade gate, auth plugins, logs) uses this value, never the socket or a header.
    conn.peer = readPeerIdentity(tlsSocket, clientCert.verifyDepth);
    if (clientCert.mode === 'required' && !conn.peer.authorized) {
      conn.log.info('TLS client refused: no valid client certificate', {
        reason: 'TLS_CLIENT_CERT_REJECTED',
        verify_error: conn.peer.verifyError ?? '',
        ...peerLogFields(conn.peer),
      });
      parts.refused('TLS_CLIENT_CERT_REJECTED');
      tlsSocket.destroy();
      return;
    }
  }
  parts.connOf.set(tlsSocket, conn);
  claimSocket(tlsSocket, parts.serverId);
}

/** Attaches the hooks to the https server. */
export function attachTlsHooks(parts: ServerParts, state: ServerState): void {
  const handoffLog = () => parts.tlsHandoff.getStore()?.log ?? parts.log;
  // Before https' own listener, so the mapping exists before any request on this socket can be parsed.
  parts.http.secure.prependListener(
    'secureConnection',
    guard(
      (tlsSocket: TLSSocket) => onSecureConnection(parts, state, tlsSocket),
      (err, tlsSocket) => {
        logInternalError(err, { log: handoffLog(), where: 'secureConnection' });
        tlsSocket.destroy();
      },
    ),
  );
  parts.http.secure.on(
    'tlsClientError',
    guard(
      (err: Error, tlsSocket: Duplex) => {
        handoffLog().debug('TLS handshake failed', {
          reason: 'TLS_HANDSHAKE_FAILED',
          error: errnoCode(err) ?? err.message,
        });
        parts.refused('TLS_HANDSHAKE_FAILED');
        tlsSocket.destroy();
      },
      (err, _e, tlsSocket) => {
        logInternalError(err, { log: handoffLog(), where: 'tlsClientError' });
        tlsSocket.destroy();
      },
    ),
  );
}
