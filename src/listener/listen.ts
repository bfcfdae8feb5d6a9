/**
 * The accept stage: one `net.Server` per address, admission caps (global and per client address) applied before any
 * byte is read, and an `'error'` listener on every socket the moment it exists.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { ListenAddress } from '../config.js';
import type { ReasonCode } from '../errors.js';

/** Counts open connections, in total and per client address, against the configured caps. */
export class ConnectionGate {
  private total = 0;
  private readonly perIp = new Map<string, number>();
  /** Connections refused so far, by reason. */
  readonly refused = { CONNECTION_LIMIT: 0, CONNECTION_LIMIT_PER_IP: 0 };

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerIp: number,
  ) {}

  /** Admits a connection from `ip`, or says which cap it hit. Admitted connections must be `release`d once. */
  admit(ip: string): { ok: true } | { ok: false; reason: ReasonCode & keyof ConnectionGate['refused'] } {
    if (this.total >= this.maxTotal) {
      this.refused.CONNECTION_LIMIT++;
      return { ok: false, reason: 'CONNECTION_LIMIT' };
    }
    const n = this.perIp.get(ip) ?? 0;
    if (n >= this.maxPerIp) {
      this.refused.CONNECTION_LIMIT_PER_IP++;
      return { ok: false, reason: 'CONNECTION_LIMIT_PER_IP' };
    }
    this.total++;
    this.perIp.set(ip, n + 1);
    return { ok: true };
  }

  /** Gives back the slot taken by `admit`. */
  release(ip: string): void {
    this.total--;
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
  }

  /** Open admitted connections. */
  get open(): number {
    return this.total;
  }
}

/** Starts listening; resolves with the server once bound, rejects with the bind error (EADDRINUSE, EACCES, …). */
export function listenOn(address: ListenAddress, onSocket: (socket: Socket) => void): Promise<Server> {
  // pauseOnConnect: nothing is read until the socket has its listeners and passed the gate.
  const server = createServer({ pauseOnConnect: true, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 }, onSocket);
  return new Promise((resolve, reject) => {
    const serverOnError = (err: Error): void => {
      server.close();
      reject(err);
    };
    server.once('error', serverOnError);
    // A bare port: Node binds '::' with IPv4-mapped addresses when IPv6 exists (dual-stack), else 0.0.0.0.
    server.listen({ port: address.port, host: address.host, backlog: 511 }, () => {
      server.off('error', serverOnError);
      resolve(server);
    });
  });
}
