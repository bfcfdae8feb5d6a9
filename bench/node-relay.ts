/**
 * The reference Node relays, each every accepted connection to a new connection to the target, both ways:
 *   node-relay.js PORT [CERT]         "node pipe": two sockets piped (TLS terminated first with CERT); Node's ceiling
 *   node-relay.js PORT [CERT] --ws    "ws minimal": the `ws` library's server, binary messages ⇄ the target socket,
 *                                     no policy, logging or backpressure: the floor of any `ws`-based proxy
 * Reports its port over IPC.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';

const args = process.argv.slice(2);
const ws = args.includes('--ws');
const [targetPort, tlsCert] = [Number(args[0]), args[1] === '--ws' ? undefined : args[1]];

function dial(): Socket {
  return connect({ port: targetPort, host: '127.0.0.1', noDelay: true });
}

function pipeRelay(client: Socket): void {
  const target = dial();
  client.setNoDelay(true);
  client.on('error', () => target.destroy());
  target.on('error', () => client.destroy());
  client.pipe(target);
  target.pipe(client);
}

function wsRelay(client: WebSocket): void {
  const target = dial();
  target.on('data', (b: Buffer) => client.send(b));
  target.on('error', () => client.terminate());
  target.on('close', () => client.close());
  client.on('message', (d: Buffer) => target.write(d));
  client.on('close', () => target.end());
  client.on('error', () => target.destroy());
}

const tls = tlsCert ? { cert: readFileSync(tlsCert), key: readFileSync(tlsCert) } : undefined;
let server;
if (ws) {
  server = tls ? createHttpsServer(tls) : createHttpServer();
  new WebSocketServer({ server, perMessageDeflate: false }).on('connection', wsRelay);
} else {
  server = tls ? createTlsServer(tls, pipeRelay) : createNetServer(pipeRelay);
}
server.on('error', () => process.exit(1));
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('disconnect', () => process.exit(0));
