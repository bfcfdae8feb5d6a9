/**
 * The bench target, run as its own process (fork with IPC) so its CPU is not the load generator's. One port; the
 * first byte a client sends picks the mode:
 *   'S' + u64 n  sink: read n bytes, then answer the u64 count (client→target throughput)
 *   'R' + u64 n  source: write n bytes, then end (target→client throughput)
 *   'E'          echo (round trips, connection rate, idle connections)
 *   'F'          flood: write as fast as the peer takes it, forever (slow-reader test)
 * IPC: {cmd:'stats'} → {floodWritten}.
 */
import { createServer, type Socket } from 'node:net';

const CHUNK = Buffer.alloc(256 * 1024, 0x5a);
let floodWritten = 0;

function source(socket: Socket, total: number): void {
  let left = total;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      const ok = socket.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n));
      if (!ok) {
        socket.once('drain', pump);
        return;
      }
    }
    socket.end();
  };
  pump();
}

function flood(socket: Socket): void {
  const pump = (): void => {
    while (!socket.destroyed) {
      floodWritten += CHUNK.length;
      if (!socket.write(CHUNK)) {
        socket.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

const server = createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => socket.destroy());
  let head: Buffer = Buffer.alloc(0);
  const onHead = (chunk: Buffer): void => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    const mode = String.fromCharCode(head[0] ?? 0);
    if (mode === 'E') {
      socket.off('data', onHead);
      if (head.length > 1) socket.write(head.subarray(1));
      socket.pipe(socket);
      return;
    }
    if (mode === 'F') {
      socket.off('data', onHead);
      socket.resume(); // discard anything the client sends
      flood(socket);
      return;
    }
    if (head.length < 9) return;
    socket.off('data', onHead);
    const n = Number(head.readBigUInt64BE(1));
    if (mode === 'R') {
      source(socket, n);
      return;
    }
    // 'S'
    let got = head.length - 9;
    const done = (): void => {
      const ack = Buffer.alloc(8);
      ack.writeBigUInt64BE(BigInt(got));
      socket.write(ack);
    };
    if (got >= n) done();
    else
      socket.on('data', (c: Buffer) => {
        got += c.length;
        if (got >= n) done();
      });
  };
  socket.on('data', onHead);
});
server.on('error', (err) => {
  process.send?.({ error: err.message });
  process.exit(1);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('message', (msg: { cmd?: string }) => {
  if (msg.cmd === 'stats') process.send?.({ floodWritten });
  if (msg.cmd === 'reset') floodWritten = 0;
});
process.on('disconnect', () => process.exit(0));
