/**
 * First-byte sniffing: the same port serves TLS and plain clients. websockify's rule, kept exactly: a TLS handshake
 * record (0x16) or an SSLv2-style ClientHello (high bit set, 0x80) means TLS; anything else is plain HTTP.
 */
import type { Socket } from 'node:net';

/** Which server a connection is handed to. */
export type Transport = 'tls' | 'plain';

/** Decides the transport from the first byte a client sent. */
export function classifyFirstByte(byte: number): Transport {
  return byte === 0x16 || byte === 0x80 ? 'tls' : 'plain';
}

/**
 * Waits for the client's first bytes, puts them back (`unshift`) so the next stage reads the stream from its start, and
 * leaves the socket paused. Resolves `undefined` if the client went away first. The caller owns the deadline.
 */
export function sniffTransport(socket: Socket): Promise<Transport | undefined> {
  return new Promise((resolve) => {
    const socketOnData = (chunk: Buffer): void => {
      socket.off('close', socketOnClose);
      socket.pause();
      socket.unshift(chunk);
      resolve(chunk.length > 0 ? classifyFirstByte(chunk[0] ?? 0) : 'plain');
    };
    const socketOnClose = (): void => {
      socket.off('data', socketOnData);
      resolve(undefined);
    };
    socket.once('data', socketOnData);
    socket.once('close', socketOnClose);
  });
}
