/**
 * `demo`: an in-process TCP echo service on a loopback port, used as the target, so a first start shows a live round
 * trip over ws:// and wss:// without any other program. It echoes what it reads, with backpressure.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { Resolution, TargetResolver } from './types.js';

/** Starts the echo service and returns a resolver pointing at it; `close()` stops it and its connections. */
export async function startDemoEcho(): Promise<TargetResolver> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
    socket.pipe(socket);
  });
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const found: Resolution = { kind: 'found', target: { kind: 'tcp', host: '127.0.0.1', port } };
  return {
    name: 'demo-echo',
    resolve: () => Promise.resolve(found),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
