/**
 * Reads the PROXY protocol header a front balancer sends (`proxyProtocolIn`) from the socket: the thin shell around
 * net/proxy-protocol.ts's pure parser, which puts any bytes after the header back (`unshift`) so the TLS/plain sniff
 * reads the client's own first byte.
 */
import type { Socket } from 'node:net';
import { parseProxyHeader, type ProxyParse } from '../net/proxy-protocol.js';

// The parser's names, for the listener's callers and tests that build headers.
export { parseProxyHeader, V1_MAX, V2_SIGNATURE, type ProxyEndpoint, type ProxyParse } from '../net/proxy-protocol.js';

/**
 * Reads a PROXY header from `socket` (flowing or paused), leaves it paused with the bytes after the header put back.
 * Resolves `undefined` if the peer went away first. The caller owns the deadline (the handshake deadline).
 */
export function readProxyHeader(socket: Socket): Promise<Exclude<ProxyParse, { kind: 'incomplete' }> | undefined> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const finish = (result: Exclude<ProxyParse, { kind: 'incomplete' }> | undefined): void => {
      socket.off('data', socketOnData);
      socket.off('close', socketOnClose);
      socket.pause();
      resolve(result);
    };
    const socketOnData = (chunk: Buffer): void => {
      try {
        buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
        const parsed = parseProxyHeader(buf);
        if (parsed.kind === 'incomplete') return;
        if (parsed.kind === 'header' && buf.length > parsed.length) {
          socket.off('data', socketOnData);
          socket.pause();
          socket.unshift(buf.subarray(parsed.length));
        }
        finish(parsed);
      } catch (err) {
        // A parser bug ends this connection through the caller's error boundary, not the process from a 'data' event.
        socket.off('data', socketOnData);
        socket.off('close', socketOnClose);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    const socketOnClose = (): void => finish(undefined);
    socket.on('data', socketOnData);
    socket.once('close', socketOnClose);
    socket.resume();
  });
}
