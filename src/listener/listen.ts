/**
 * The accept stage: one `net.Server` per address, admission caps (global and per client address) applied before any
 * byte is read, and an `'error'` listener on every socket the moment it exists.
 */
import { lookup } from 'node:dns/promises';
import { chmod, lstat, unlink } from 'node:fs/promises';
import { createServer, type ListenOptions, type Server, type Socket } from 'node:net';
import type { ListenAddress } from '../config/types.js';
import { NotASocketError, type ReasonCode } from '../errors.js';
import { clientKey, isIpLiteral } from '../net/address.js';
import { flag } from '../config/options/index.js';

/**
 * Counts open connections, in total and per client address, against the configured caps (Infinity = no cap).
 * Addresses are counted by {@link clientKey}: IPv6 per /64, IPv4-mapped IPv6 as IPv4.
 */
export class ConnectionGate {
  private total = 0;
  private readonly perIp = new Map<string, number>();
  /** Connections refused so far, by reason. */
  readonly refused = { CONNECTION_LIMIT: 0, CONNECTION_LIMIT_PER_IP: 0 };

  constructor(
    private maxTotal: number,
    private maxPerIp: number,
  ) {}

  /** New caps for connections admitted from now on (a reload); open connections keep their slots. */
  setLimits(maxTotal: number, maxPerIp: number): void {
    this.maxTotal = maxTotal;
    this.maxPerIp = maxPerIp;
  }

  /** Admits a connection from `ip`, or says which cap it hit. Admitted connections must be `release`d once. */
  admit(ip: string | undefined): { ok: true } | { ok: false; reason: ReasonCode & keyof ConnectionGate['refused'] } {
    if (this.total >= this.maxTotal) {
      this.refused.CONNECTION_LIMIT++;
      return { ok: false, reason: 'CONNECTION_LIMIT' };
    }
    if (ip === undefined) {
      // Unix-socket clients have no address: only the global cap applies.
      this.total++;
      return { ok: true };
    }
    const key = clientKey(ip);
    const n = this.perIp.get(key) ?? 0;
    if (n >= this.maxPerIp) {
      this.refused.CONNECTION_LIMIT_PER_IP++;
      return { ok: false, reason: 'CONNECTION_LIMIT_PER_IP' };
    }
    this.total++;
    this.perIp.set(key, n + 1);
    return { ok: true };
  }

  /**
   * Whether `ip` is at its cap, without taking a slot (a request through a trusted reverse proxy: it holds no
   * connection of its own). Counted as a refusal when it is.
   */
  atCap(ip: string): boolean {
    if ((this.perIp.get(clientKey(ip)) ?? 0) < this.maxPerIp) return false;
    this.refused.CONNECTION_LIMIT_PER_IP++;
    return true;
  }

  /**
   * Counts a connection admitted without an address (behind a PROXY-protocol balancer, whose own address says nothing
   * about the client) against `ip`'s cap once the real address is known. Refused: the caller still `release`s the
   * slot under `undefined`; admitted: it `release`s under `ip`.
   */
  assign(ip: string): { ok: true } | { ok: false; reason: 'CONNECTION_LIMIT_PER_IP' } {
    const key = clientKey(ip);
    const n = this.perIp.get(key) ?? 0;
    if (n >= this.maxPerIp) {
      this.refused.CONNECTION_LIMIT_PER_IP++;
      return { ok: false, reason: 'CONNECTION_LIMIT_PER_IP' };
    }
    this.perIp.set(key, n + 1);
    return { ok: true };
  }

  /** Gives back the slot taken by `admit`. */
  release(ip: string | undefined): void {
    this.total--;
    if (ip === undefined) return;
    const key = clientKey(ip);
    const n = (this.perIp.get(key) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(key);
    else this.perIp.set(key, n);
  }

  /** Open admitted connections. */
  get open(): number {
    return this.total;
  }
}

/** Picks the address to bind for a host name: websockify takes IPv4 first, or IPv6 first with -6. */
async function bindHost(host: string | undefined, preferIpv6: boolean): Promise<string | undefined> {
  if (host === undefined || isIpLiteral(host)) return host;
  const all = await lookup(host, { all: true });
  const family = preferIpv6 ? 6 : 4;
  return (all.find((a) => a.family === family) ?? all[0])?.address ?? host;
}

/**
 * Removes a stale unix socket left by an earlier run; refuses to delete anything that is not a socket (the error names
 * `option`, the flag that chose the path).
 */
export async function clearStaleSocket(path: string, option = flag('unixListen')): Promise<void> {
  let info;
  try {
    info = await lstat(path);
  } catch {
    return;
  }
  if (!info.isSocket()) {
    throw new NotASocketError(`${path} exists and is not a socket; remove it or choose another ${option} path`);
  }
  await unlink(path);
}

/**
 * `server.listen({ path })` with the socket created as `mode` from the start, not chmod'ed after bind (until then it
 * would be open to anyone who can reach the directory). bind(2) gives the new inode 0777 & ~umask, and Node binds a
 * unix socket synchronously inside `listen()` (in a process that is not a cluster worker, which `unixListen` and
 * `adminListen` never are), so a umask set just around that call applies to this socket and to nothing else in JS.
 * Files other threads create in that instant can only come out stricter. The chmod after bind stays as a backstop.
 */
export function listenUnix(
  server: Server,
  options: ListenOptions & { path: string },
  mode: number,
  onListening?: () => void,
): void {
  const saved = process.umask(0o777 & ~mode);
  try {
    server.listen(options, onListening);
  } finally {
    process.umask(saved);
  }
}

/** Starts listening; resolves with the server once bound, rejects with the bind error (EADDRINUSE, EACCES, …). */
export async function listenOn(address: ListenAddress, onSocket: (socket: Socket) => void): Promise<Server> {
  // pauseOnConnect: nothing is read until the socket has its listeners and passed the gate.
  const server = createServer(
    { pauseOnConnect: true, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 },
    onSocket,
  );
  let options: ListenOptions | { fd: number };
  if (address.kind === 'unix') {
    await clearStaleSocket(address.path);
    options = { path: address.path, backlog: 511 };
  } else if (address.kind === 'inetd') {
    options = { fd: 0 };
  } else {
    // A bare port: Node binds '::' with IPv4-mapped addresses when IPv6 exists (dual-stack), else 0.0.0.0.
    options = { port: address.port, host: await bindHost(address.host, address.preferIpv6 ?? false), backlog: 511 };
  }
  await new Promise<void>((resolve, reject) => {
    const serverOnError = (err: Error): void => {
      server.close();
      reject(err);
    };
    server.once('error', serverOnError);
    const listening = (): void => {
      server.off('error', serverOnError);
      resolve();
    };
    // An inherited socket is passed as a handle object ({ fd }); the other forms are listen options.
    if ('fd' in options) server.listen(options, listening);
    else if (address.kind === 'unix') listenUnix(server, { ...options, path: address.path }, address.mode, listening);
    else server.listen(options, listening);
  });
  if (address.kind === 'unix') await chmod(address.path, address.mode);
  return server;
}
