/**
 * The accept pipeline of one connection: gate (caps, `trustedProxy` for PROXY headers) → PROXY header → deadline →
 * sniff the first byte → hand-off to the TLS or the plain HTTP server. Every step either hands the socket on or
 * closes it with one log line and a refusal event. The whole connection uses the snapshot current when it arrived.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Config } from '../config/types.js';
import type { ConnectionContext } from '../context.js';
import { clientFailureReason, errnoCode } from '../errors.js';
import { claimSocket } from '../events.js';
import { readProxyHeader } from '../listener/proxy-protocol.js';
import { sniffTransport } from '../listener/sniff.js';
import { foldMapped, hostPort } from '../net/address.js';
import { inAnyRange } from '../policy/cidr.js';
import { tlsInputsOf, type Runtime } from './runtime.js';
import { isClosing, type ServerParts, type ServerState } from './state.js';
import { flag } from '../config/options/index.js';

/** What one admitted connection holds in the gate, and how far its handshake got (for the deadline's line). */
interface Admission {
  /** The address counted against `maxConnectionsPerIp`, once known. */
  gateKey: string | undefined;
  stage: string;
}

/** Strips the IPv4-mapped prefix so logs and per-IP caps see one address per client. */
function plainAddress(address: string | undefined): string {
  if (!address) return 'unix';
  return foldMapped(address);
}

/** Accepts one client socket; resolves once it is handed to an HTTP server (or closed). */
export async function acceptConnection(parts: ServerParts, state: ServerState, socket: Socket): Promise<void> {
  // Rule 1: an 'error' listener before anything else can happen on this socket.
  claimSocket(socket, parts.serverId);
  socket.on('error', (err) => {
    (parts.connOf.get(socket)?.log ?? parts.log).debug('client socket error', {
      reason: clientFailureReason(err),
      error: errnoCode(err) ?? err.message,
    });
  });
  if (isClosing(state)) {
    socket.destroy();
    return;
  }
  // One snapshot for the whole connection, even if a reload happens while it handshakes.
  const runtime = state.runtime;
  const admitted = admit(parts, state, socket, runtime.config);
  if (admitted === undefined) return;
  if (admitted.proxyIn && !(await readProxy(parts, socket, admitted))) return;
  socket.resume(); // the listener paused it on connect (or the PROXY reader after the header)
  await handOff(parts, state, socket, admitted, runtime);
}

/** A connection past the gate: its context, its admission and whether a PROXY header comes first. */
interface Admitted extends Admission {
  readonly ctx: ConnectionContext;
  readonly proxyIn: boolean;
  /** The address and port of the direct peer (the balancer, with a PROXY header). */
  readonly peer: string;
}

/** The gate: PROXY headers only from `trustedProxy` peers, then the caps; undefined once refused. */
function admit(parts: ServerParts, state: ServerState, socket: Socket, config: Config): Admitted | undefined {
  const remoteAddress = plainAddress(socket.remoteAddress);
  const peer = `${remoteAddress}:${socket.remotePort ?? 0}`;
  const client = config.clientAddress;
  const proxyIn = client?.proxyProtocolIn === true;
  const direct = socket.remoteAddress !== undefined;
  if (proxyIn && direct && !inAnyRange(client?.trustedProxies ?? [], remoteAddress)) {
    parts.log.info(`connection refused: PROXY protocol expected from a ${flag('trustedProxy')} peer`, {
      reason: 'PROXY_UNTRUSTED',
      peer,
    });
    return refuse(parts, socket, 'PROXY_UNTRUSTED');
  }
  // Behind a PROXY-protocol balancer the socket's address is the balancer's: the per-IP cap waits for the header.
  // Behind a `trustForwarded` reverse proxy it waits for each request's forwarded client (countClient below).
  const viaForwarder =
    !proxyIn && client?.trustForwarded === true && direct && inAnyRange(client.trustedProxies, remoteAddress);
  const admission: Admission = {
    gateKey: !direct || proxyIn || viaForwarder ? undefined : remoteAddress,
    stage: proxyIn ? 'PROXY header' : 'first byte',
  };
  const admitted = parts.gate.admit(admission.gateKey);
  if (!admitted.ok) {
    parts.log.debug('connection refused', { reason: admitted.reason, peer });
    return refuse(parts, socket, admitted.reason);
  }
  parts.sockets.add(socket);
  const ctx = connectionContext(parts, state, socket, config, admission, viaForwarder);
  return Object.assign(admission, { ctx, proxyIn, peer });
}

/** Closes a socket the gate refused. */
function refuse(parts: ServerParts, socket: Socket, reason: Parameters<ServerParts['refused']>[0]): undefined {
  parts.refused(reason);
  socket.destroy();
  return undefined;
}

/** The connection's context, its handshake deadline, and the gate slot it gives back on 'close'. */
function connectionContext(
  parts: ServerParts,
  state: ServerState,
  socket: Socket,
  config: Config,
  admission: Admission,
  viaForwarder: boolean,
): ConnectionContext {
  const { gate, log } = parts;
  const id = ++state.lastConnId;
  const remoteAddress = plainAddress(socket.remoteAddress);
  const remotePort = socket.remotePort ?? 0;
  let deadline: NodeJS.Timeout | undefined = setTimeout(() => {
    conn.log.debug('handshake deadline passed', { reason: 'HANDSHAKE_TIMEOUT', stage: admission.stage });
    parts.refused('HANDSHAKE_TIMEOUT');
    socket.destroy();
  }, config.limits.handshakeTimeoutMs);
  // The listeners below keep this scope for the connection's life: drop the timer once it is cleared (issue #6).
  const stopDeadline = (): void => {
    clearTimeout(deadline);
    deadline = undefined;
  };
  const conn: ConnectionContext = {
    id,
    remoteAddress,
    remotePort,
    tls: false,
    log: log.child({ conn: id, peer: `${remoteAddress}:${remotePort}` }),
    handshakeDone: stopDeadline,
    localAddress: socket.localAddress === undefined ? undefined : plainAddress(socket.localAddress),
    localPort: socket.localPort,
    countClient: viaForwarder
      ? (address, hold) => {
          if (!hold || admission.gateKey !== undefined) return !gate.atCap(address);
          if (!gate.assign(address).ok) return false;
          admission.gateKey = address;
          return true;
        }
      : undefined,
  };
  // 'close' comes once: on() rather than once(), whose wrapper would stay for the connection's life.
  socket.on('close', (hadError: boolean) => {
    // HTTP ignores blank lines before a request, so a plain client that sent only those and left was never seen by
    // the HTTP stage: still inside the deadline, nothing answered, no socket error (those have their own line).
    if (deadline !== undefined && !hadError && admission.stage === 'request headers' && socket.bytesWritten === 0) {
      conn.log.debug('client left before sending a request', { reason: 'CLIENT_LEFT_EARLY' });
    }
    stopDeadline();
    parts.sockets.delete(socket);
    gate.release(admission.gateKey);
  });
  return conn;
}

/** Reads the PROXY header: the real client's address replaces the balancer's. False once the socket is closed. */
async function readProxy(parts: ServerParts, socket: Socket, a: Admitted): Promise<boolean> {
  const { ctx: conn } = a;
  const header = await readProxyHeader(socket);
  if (header === undefined) {
    conn.log.debug('client left before sending a PROXY header', { reason: 'PROXY_HEADER_INCOMPLETE' });
    return false;
  }
  if (header.kind === 'invalid') {
    conn.log.info('connection closed: no valid PROXY protocol header', {
      reason: 'PROXY_HEADER_INVALID',
      problem: header.problem,
    });
    return refuse(parts, socket, 'PROXY_HEADER_INVALID') ?? false;
  }
  if (header.source) {
    const real = foldMapped(header.source.address);
    conn.remoteAddress = real;
    conn.remotePort = header.source.port;
    conn.proxyPeer = a.peer;
    conn.localAddress = header.destination ? foldMapped(header.destination.address) : conn.localAddress;
    conn.localPort = header.destination?.port ?? conn.localPort;
    conn.log = parts.log.child({ conn: conn.id, peer: hostPort(real, header.source.port), proxy: conn.proxyPeer });
  }
  if (socket.remoteAddress !== undefined) {
    // Now the client's own address counts against `maxConnectionsPerIp` (LOCAL health checks: the balancer's).
    const assigned = parts.gate.assign(conn.remoteAddress);
    if (!assigned.ok) {
      conn.log.debug('connection refused', { reason: assigned.reason });
      return refuse(parts, socket, assigned.reason) ?? false;
    }
    a.gateKey = conn.remoteAddress;
  }
  a.stage = 'first byte';
  return true;
}

/** Sniffs the first byte and hands the socket to the TLS or the plain HTTP server. */
async function handOff(
  parts: ServerParts,
  state: ServerState,
  socket: Socket,
  a: Admitted,
  runtime: Runtime,
): Promise<void> {
  const conn = a.ctx;
  const transport = await sniffTransport(socket);
  if (transport === undefined) {
    conn.log.debug('client left before sending anything', { reason: 'CLIENT_LEFT_EARLY' });
    return;
  }
  if (transport === 'tls') {
    // The certificate follows the current snapshot (a reload may have replaced it since this connection arrived).
    await parts.tls.retryIfDue(tlsInputsOf(state.runtime));
    if (!parts.tls.certificate()) {
      conn.log.warn('TLS client refused: no certificate loaded', {
        reason: 'TLS_NOT_CONFIGURED',
        problem: parts.tls.problem()?.message ?? 'not loaded',
      });
      refuse(parts, socket, 'TLS_NOT_CONFIGURED');
      return;
    }
    conn.tls = true;
    conn.log = conn.log.child({ tls: true });
    a.stage = 'TLS handshake';
    parts.tlsHandoff.run(conn, () => parts.http.secure.emit('connection', socket));
  } else {
    if (runtime.config.tls.sslOnly) {
      conn.log.debug(`plain client refused (${flag('sslOnly')})`, { reason: 'PLAIN_REFUSED' });
      refuse(parts, socket, 'PLAIN_REFUSED');
      return;
    }
    a.stage = 'request headers';
    parts.connOf.set(socket, conn);
    parts.http.plain.emit('connection', socket);
  }
  // sniffTransport left the socket paused with the first bytes put back; the next stage reads from the start.
  process.nextTick(() => socket.resume());
}

/** The per-IP cap for a request's forwarded client (see ConnectionContext.countClient); refused: closed, as at accept. */
export function forwardedClientAdmitted(
  parts: ServerParts,
  conn: ConnectionContext,
  socket: Duplex,
  hold: boolean,
): boolean {
  if (conn.countClient === undefined || conn.countClient(conn.remoteAddress, hold)) return true;
  conn.log.debug('connection refused', { reason: 'CONNECTION_LIMIT_PER_IP' });
  parts.refused('CONNECTION_LIMIT_PER_IP');
  socket.destroy();
  return false;
}
