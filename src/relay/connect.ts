/**
 * Dialling the target before the WebSocket is accepted, so a failure is an HTTP answer (502/504) rather than a socket
 * that opens and dies. Every resolved address is tried in the resolver's order, sharing one deadline fairly; the
 * first that accepts wins.
 */
import { lookup } from 'node:dns/promises';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { AbortedError, ProxyError, TimeoutError, errnoCode, type ReasonCode } from '../errors.js';
import { hostPort, isIpLiteral } from '../net/address.js';
import { targetReadPool } from './read-pool.js';

/**
 * TLS to the target (`sslTarget`): certificate and host name verified against the system CAs, or `ca` instead;
 * `verify: false` only when the operator said `targetVerify` none`. `cert`/`key` authenticate wsproxy to the target.
 */
export interface TargetTlsOptions {
  readonly verify: boolean;
  /** PEM of the CAs to trust instead of the system store. */
  readonly ca?: Buffer | undefined;
  /** Name to send as SNI and to check the certificate against (default: the target's host, if it is a name). */
  readonly servername?: string | undefined;
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
}

/** Maps a TLS error from the target handshake to a reason code naming why verification failed. */
export function tlsFailureReason(err: unknown): ReasonCode {
  switch (errnoCode(err)) {
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'CERT_UNTRUSTED':
    case 'CERT_SIGNATURE_FAILURE':
      return 'TARGET_TLS_UNKNOWN_CA';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
    case 'HOSTNAME_MISMATCH':
    case 'IP_ADDRESS_MISMATCH':
      return 'TARGET_TLS_NAME_MISMATCH';
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return 'TARGET_TLS_EXPIRED';
    default:
      return 'TARGET_TLS_FAILED';
  }
}

/** A connected target socket's own 'error' listener: ends it (the relay, listening too, reports the error). */
function socketOnLateError(this: Socket): void {
  this.destroy();
}

/** The same for a TLS socket over `plain`: both end, as when the handshake failed. Holds only `plain`. */
function destroyOnError(plain: Socket): (this: Socket) => void {
  return function tlsSocketOnLateError(this: Socket): void {
    this.destroy();
    plain.destroy();
  };
}

/** Runs the TLS handshake on a connected socket; resolves the TLS socket once it is verified (or verification is off). */
function secure(
  socket: Socket,
  host: string,
  tls: TargetTlsOptions,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // SNI must be a host name (RFC 6066 §3); an IP target is checked against the certificate's IP SANs instead.
    const servername = tls.servername ?? (isIpLiteral(host) ? undefined : host);
    const tlsSocket = tlsConnect({
      socket,
      host: servername ?? host, // the name checkServerIdentity compares with the certificate
      ...(servername === undefined ? {} : { servername }),
      rejectUnauthorized: tls.verify,
      minVersion: 'TLSv1.2',
      ...(tls.ca === undefined ? {} : { ca: tls.ca }),
      ...(tls.cert === undefined ? {} : { cert: tls.cert, key: tls.key ?? tls.cert }),
    });
    const timer = setTimeout(() => finish(new TimeoutError('TLS handshake with the target timed out')), timeoutMs);
    const signalOnAbort = (): void => finish(new AbortedError());
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', signalOnAbort);
      tlsSocket.off('secureConnect', tlsOnSecureConnect);
      if (err) {
        tlsSocket.destroy();
        socket.destroy();
        reject(err);
        return;
      }
      // Later errors are the relay's to report; what stays must not keep this handshake's state alive.
      tlsSocket.off('error', tlsOnError);
      tlsSocket.on('error', destroyOnError(socket));
      resolve(tlsSocket);
    };
    const tlsOnSecureConnect = (): void => finish();
    const tlsOnError = (err: Error): void => finish(err);
    tlsSocket.on('error', tlsOnError);
    tlsSocket.once('secureConnect', tlsOnSecureConnect);
    signal.addEventListener('abort', signalOnAbort, { once: true });
  });
}

/** Where to dial (the relay's own view of a target). */
export type DialTarget = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/** Maps a connect error to the reason code the client is told. */
export function connectFailureReason(err: unknown): ReasonCode {
  switch (errnoCode(err)) {
    case 'ECONNREFUSED':
    case 'ENOENT': // unix socket path missing
      return 'TARGET_REFUSED';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return 'TARGET_UNREACHABLE';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'ENODATA':
      return 'TARGET_DNS';
    case 'ETIMEDOUT':
      return 'TARGET_TIMEOUT';
    default:
      return 'TARGET_FAILED';
  }
}

// Which failure to report when several addresses failed differently: the most telling one wins.
const SEVERITY: ReasonCode[] = [
  'TARGET_REFUSED',
  'TARGET_UNREACHABLE',
  'TARGET_TIMEOUT',
  'TARGET_DNS',
  'TARGET_FAILED',
];

/**
 * Node reads a socket into a fresh 64 KiB buffer per read; freeing it let glibc trim the heap top and regrow it on the
 * next read (issue #14: downloads swung between 150 and 900 MB/s). Plain targets are read through `onread` instead:
 * into one process-wide staging buffer, from which each read is copied at its real length into a chunk of the pool
 * (`read-pool.ts`), which the relay returns once the chunk's WebSocket write has completed. Reads for different
 * sockets never interleave (one thread, the callback runs right after each read), so one staging buffer serves all,
 * and an idle socket holds no buffer: a buffer handed to the socket itself would stay with it between reads. The
 * chunk is pushed into the socket's own readable buffer, so pause/resume, backpressure and 'data' listeners attached
 * later behave as before. The read size is the high-water mark ({@link DialOptions.readBytes}), at least Node's 64 KiB.
 */
const NODE_READ_BYTES = 64 * 1024;
let stagingBuffer = Buffer.alloc(0);
// One `onread` per read size, shared by every socket (Node calls the callback on the socket): an idle session pays
// no closures for it.
type PooledReads = { buffer: () => Buffer; callback: (this: Socket, n: number, buf: Uint8Array) => boolean };
const readers = new Map<number, PooledReads>();

function pooledReads(bytes: number): PooledReads {
  let reader = readers.get(bytes);
  if (reader !== undefined) return reader;
  if (stagingBuffer.length < bytes) stagingBuffer = Buffer.allocUnsafeSlow(bytes);
  const view = stagingBuffer.subarray(0, bytes);
  reader = { buffer: () => view, callback: pushPooledChunk };
  readers.set(bytes, reader);
  return reader;
}

/** push() returns false above the stream's high-water mark: Node then stops reading. */
function pushPooledChunk(this: Socket, n: number, buf: Uint8Array): boolean {
  const chunk = targetReadPool.take(n);
  chunk.set(buf.subarray(0, n));
  return this.push(chunk);
}

function attempt(
  options: { host: string; port: number } | { path: string },
  timeoutMs: number,
  signal: AbortSignal,
  // undefined: Node's own reads (a TLS target's bytes are read by the TLS layer from the handle, never through onread)
  readBytes: number | undefined,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket: Socket =
      readBytes === undefined
        ? connect(options)
        : connect({ ...options, onread: pooledReads(Math.max(readBytes, NODE_READ_BYTES)) });
    const timer = setTimeout(() => finish(new TimeoutError('connect timed out')), timeoutMs);
    const signalOnAbort = (): void => finish(new AbortedError());
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', signalOnAbort);
      socket.off('connect', socketOnConnect);
      if (err) {
        socket.destroy();
        reject(err);
        return;
      }
      // An 'error' after connect is the relay's to report, but the socket must never be without a listener (rule 1).
      // The one that stays holds nothing of this attempt: a closure here would keep its timer, promise and abort
      // signal alive for the whole session (~0.8 KB per session; issue #6).
      socket.off('error', socketOnError);
      socket.on('error', socketOnLateError);
      resolve(socket);
    };
    const socketOnConnect = (): void => finish();
    const socketOnError = (err: Error): void => finish(err);
    socket.on('error', socketOnError);
    socket.once('connect', socketOnConnect);
    signal.addEventListener('abort', signalOnAbort, { once: true });
  });
}

/** Policy and preamble for {@link connectTarget}. */
export interface DialOptions {
  /**
   * Decides each resolved address before it is dialled (`allowTarget`, the metadata default): a string says why
   * it is refused. Checked after DNS, so a name cannot reach an address its literal form could not.
   */
  readonly checkAddress?: (address: string, port: number) => string | undefined;
  /** Bytes written to the target first, before any relayed byte (a PROXY protocol header). */
  readonly preamble?: Buffer | undefined;
  /** `sslTarget`: TLS to TCP targets after connecting (and after the preamble). */
  readonly tls?: TargetTlsOptions | undefined;
  /**
   * Largest read from a plain target (the relay passes its high-water mark; at least Node's own 64 KiB): reads go
   * through one shared buffer of this size; the bytes a paused session can hold grow with it (one read beyond the mark).
   */
  readonly readBytes?: number | undefined;
}

type Dialled = { socket: Socket; address: string };

/**
 * Connects to `target` within `timeoutMs`. Resolves a connected, paused socket with TCP_NODELAY and keepalive set.
 * Rejects with a `ProxyError` carrying the reason code (or with an error coded `ABORTED` if `signal` fired).
 */
export async function connectTarget(
  target: DialTarget,
  timeoutMs: number,
  signal: AbortSignal,
  options: DialOptions = {},
): Promise<Dialled> {
  const deadline = Date.now() + timeoutMs;
  if (target.kind === 'unix') return connectUnix(target.path, timeoutMs, signal, options);
  let addresses = await resolveTarget(target.host);
  if (options.checkAddress) addresses = allowedAddresses(addresses, target, options.checkAddress);
  let worst: ReasonCode | undefined;
  const failures: string[] = [];
  for (let i = 0; i < addresses.length; i++) {
    const address = addresses[i]!;
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      worst ??= 'TARGET_TIMEOUT';
      break;
    }
    // Fair share of what is left, so one black-holed address cannot eat the budget of the others.
    const budget = Math.max(1, Math.floor(remaining / (addresses.length - i)));
    try {
      return await dialAddress(address, target, { budget, deadline, signal }, options);
    } catch (err) {
      if (err instanceof AbortedError || err instanceof ProxyError) throw err;
      const reason = connectFailureReason(err);
      failures.push(`${address}: ${errnoCode(err) ?? 'error'}`);
      if (worst === undefined || SEVERITY.indexOf(reason) < SEVERITY.indexOf(worst)) worst = reason;
    }
  }
  throw new ProxyError(
    worst ?? 'TARGET_FAILED',
    `connect to ${target.host}:${target.port} failed (${failures.join(', ') || 'no address'})`,
  );
}

async function connectUnix(
  path: string,
  timeoutMs: number,
  signal: AbortSignal,
  options: DialOptions,
): Promise<Dialled> {
  try {
    const socket = await attempt({ path }, timeoutMs, signal, options.readBytes ?? NODE_READ_BYTES);
    socket.pause();
    if (options.preamble) socket.write(options.preamble);
    return { socket, address: `unix:${path}` };
  } catch (err) {
    if (err instanceof AbortedError) throw err;
    throw new ProxyError(
      connectFailureReason(err),
      `connect to unix:${path} failed: ${errnoCode(err) ?? String(err)}`,
      {
        cause: err,
      },
    );
  }
}

/** The target host's addresses in the resolver's order (an IP literal is its own). */
async function resolveTarget(host: string): Promise<string[]> {
  if (isIpLiteral(host)) return [host];
  try {
    return (await lookup(host, { all: true, order: 'verbatim' })).map((a) => a.address);
  } catch (err) {
    throw new ProxyError('TARGET_DNS', `target host ${host} does not resolve (${errnoCode(err) ?? 'error'})`, {
      cause: err,
    });
  }
}

/** The addresses the policy allows; only these are dialled, the refused ones never see a SYN. Throws if none is. */
function allowedAddresses(
  addresses: string[],
  target: { host: string; port: number },
  check: NonNullable<DialOptions['checkAddress']>,
): string[] {
  const decided = addresses.map((a) => ({ a, why: check(a, target.port) }));
  const refused = decided.filter((r) => r.why !== undefined);
  if (refused.length === addresses.length) {
    throw new ProxyError(
      'TARGET_FORBIDDEN',
      `target ${target.host}:${target.port} refused by policy (${refused.map((r) => `${r.a}: ${r.why}`).join(', ')})`,
    );
  }
  return decided.filter((r) => r.why === undefined).map((r) => r.a);
}

/**
 * Dials one address within `budget`, writes the preamble and, for a TLS target, runs the handshake within what is left
 * of the deadline. A connect failure throws as it came (the caller tries the next address); a TLS failure throws a
 * `ProxyError`, which ends the attempt.
 */
async function dialAddress(
  address: string,
  target: { host: string; port: number },
  time: { budget: number; deadline: number; signal: AbortSignal },
  options: DialOptions,
): Promise<Dialled> {
  const tls = options.tls;
  // A TLS target's bytes are read by the TLS layer from the handle, never through onread (nor tls.connect's own
  // onread, which is ignored over an existing socket): TLS targets keep Node's reads.
  const readBytes = tls === undefined ? (options.readBytes ?? NODE_READ_BYTES) : undefined;
  const plain = await attempt({ host: address, port: target.port }, time.budget, time.signal, readBytes);
  plain.setNoDelay(true);
  plain.setKeepAlive(true, 60_000);
  // The PROXY header goes first on the wire, before a TLS ClientHello (as HAProxy's send-proxy with ssl).
  if (options.preamble) plain.write(options.preamble);
  const shown = hostPort(address, target.port);
  if (tls === undefined) {
    plain.pause();
    return { socket: plain, address: shown };
  }
  let secured: Socket;
  try {
    secured = await secure(plain, target.host, tls, Math.max(1, time.deadline - Date.now()), time.signal);
  } catch (err) {
    throw tlsFailure(err, target.host, shown);
  }
  secured.pause();
  return { socket: secured, address: shown };
}

/** The error a failed TLS handshake with the target ends the dial with. */
function tlsFailure(err: unknown, host: string, shown: string): Error {
  if (err instanceof AbortedError) return err;
  if (errnoCode(err) === 'ETIMEDOUT')
    return new ProxyError('TARGET_TIMEOUT', `TLS handshake with ${shown} timed out`, { cause: err });
  // A certificate problem is the same on every address of this host: report it, do not try the next one.
  return new ProxyError(
    tlsFailureReason(err),
    `TLS to ${host} at ${shown} failed: ${errnoCode(err) ?? 'error'}: ${(err as Error).message}`,
    { cause: err },
  );
}
