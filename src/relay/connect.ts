/**
 * Dialling the target before the WebSocket is accepted, so a failure is an HTTP answer (502/504) rather than a socket
 * that opens and dies. Every resolved address is tried in the resolver's order, sharing one deadline fairly; the
 * first that accepts wins.
 */
import { lookup } from 'node:dns/promises';
import { connect, isIP, type Socket } from 'node:net';
import { ProxyError, errnoCode, type ReasonCode } from '../errors.js';

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
const SEVERITY: ReasonCode[] = ['TARGET_REFUSED', 'TARGET_UNREACHABLE', 'TARGET_TIMEOUT', 'TARGET_DNS', 'TARGET_FAILED'];

function attempt(options: { host: string; port: number } | { path: string }, timeoutMs: number, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(options);
    const timer = setTimeout(() => finish(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), timeoutMs);
    const signalOnAbort = (): void => finish(Object.assign(new Error('client went away'), { code: 'ABORTED' }));
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', signalOnAbort);
      socket.off('connect', socketOnConnect);
      if (err) {
        socket.destroy();
        reject(err);
      } else resolve(socket);
    };
    const socketOnConnect = (): void => finish();
    // The listener stays for the socket's whole life: an 'error' after connect is the relay's to report.
    socket.on('error', (err) => finish(err));
    socket.once('connect', socketOnConnect);
    signal.addEventListener('abort', signalOnAbort, { once: true });
  });
}

/** Policy and preamble for {@link connectTarget}. */
export interface DialOptions {
  /**
   * Decides each resolved address before it is dialled (`--allow-target`, the metadata default): a string says why
   * it is refused. Checked after DNS, so a name cannot reach an address its literal form could not.
   */
  readonly checkAddress?: (address: string, port: number) => string | undefined;
  /** Bytes written to the target first, before any relayed byte (a PROXY protocol header). */
  readonly preamble?: Buffer | undefined;
}

/**
 * Connects to `target` within `timeoutMs`. Resolves a connected, paused socket with TCP_NODELAY and keepalive set.
 * Rejects with a `ProxyError` carrying the reason code (or with an error coded `ABORTED` if `signal` fired).
 */
export async function connectTarget(target: DialTarget, timeoutMs: number, signal: AbortSignal, options: DialOptions = {}): Promise<{ socket: Socket; address: string }> {
  const deadline = Date.now() + timeoutMs;
  if (target.kind === 'unix') {
    try {
      const socket = await attempt({ path: target.path }, timeoutMs, signal);
      socket.pause();
      if (options.preamble) socket.write(options.preamble);
      return { socket, address: `unix:${target.path}` };
    } catch (err) {
      if (errnoCode(err) === 'ABORTED') throw err;
      throw new ProxyError(connectFailureReason(err), `connect to unix:${target.path} failed: ${errnoCode(err) ?? String(err)}`, { cause: err });
    }
  }

  let addresses: string[];
  if (isIP(target.host)) addresses = [target.host];
  else {
    try {
      addresses = (await lookup(target.host, { all: true, order: 'verbatim' })).map((a) => a.address);
    } catch (err) {
      throw new ProxyError('TARGET_DNS', `target host ${target.host} does not resolve (${errnoCode(err) ?? 'error'})`, { cause: err });
    }
  }

  if (options.checkAddress) {
    const check = options.checkAddress;
    const refused = addresses.map((a) => ({ a, why: check(a, target.port) })).filter((r) => r.why !== undefined);
    if (refused.length === addresses.length) {
      throw new ProxyError('TARGET_FORBIDDEN', `target ${target.host}:${target.port} refused by policy (${refused.map((r) => `${r.a}: ${r.why}`).join(', ')})`);
    }
    // Only the allowed addresses are dialled; the refused ones never see a SYN.
    addresses = addresses.filter((a) => check(a, target.port) === undefined);
  }

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
      const socket = await attempt({ host: address, port: target.port }, budget, signal);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 60_000);
      socket.pause();
      if (options.preamble) socket.write(options.preamble);
      const shown = address.includes(':') ? `[${address}]:${target.port}` : `${address}:${target.port}`;
      return { socket, address: shown };
    } catch (err) {
      if (errnoCode(err) === 'ABORTED') throw err;
      const reason = connectFailureReason(err);
      failures.push(`${address}: ${errnoCode(err) ?? 'error'}`);
      if (worst === undefined || SEVERITY.indexOf(reason) < SEVERITY.indexOf(worst)) worst = reason;
    }
  }
  throw new ProxyError(worst ?? 'TARGET_FAILED', `connect to ${target.host}:${target.port} failed (${failures.join(', ') || 'no address'})`);
}
