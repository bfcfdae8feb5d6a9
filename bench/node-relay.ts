/**
 * The "minimal Node relay" reference: every accepted socket piped to a new connection to the target, both ways.
 * With `--tls CERT` it terminates TLS first (same certificate as wsproxy). Reports its port over IPC.
 */
import { readFileSync } from 'node:fs';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

const [targetPort, tlsCert] = [Number(process.argv[2]), process.argv[3]];

function relay(client: Socket): void {
  const target = connect({ port: targetPort, host: '127.0.0.1', noDelay: true });
  client.setNoDelay(true);
  client.on('error', () => target.destroy());
  target.on('error', () => client.destroy());
  client.pipe(target);
  target.pipe(client);
}

const server = tlsCert
  ? createTlsServer({ cert: readFileSync(tlsCert), key: readFileSync(tlsCert) }, relay)
  : createNetServer(relay);
server.on('error', () => process.exit(1));
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('disconnect', () => process.exit(0));
