/**
 * The admin listener: a small HTTP server on its own address (TCP, loopback by default, or a unix socket), apart from
 * the public port. `GET /metrics` (Prometheus), `GET /healthz` (the process answers), `GET /readyz` (listening,
 * certificate loaded, token source reachable; 503 while draining), `GET /sessions` (live sessions, no secrets),
 * `DELETE /sessions/{id}` (close one with 1008) and `POST /reload` (what SIGHUP does, answered as JSON). With a
 * token, every route but the two probes needs `Authorization: Bearer <token>`, compared in constant time; a TCP
 * listener off loopback must have one (config.ts). Browsers are kept out by access.ts.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { chmod } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdminConfig } from '../config/types.js';
import { clearStaleSocket, listenUnix } from '../listener/listen.js';
import { hostPort } from '../net/address.js';
import { adminRefusal } from './access.js';
import type { Logger } from '../log.js';
import type { ProxyMetrics } from './metrics.js';
import { flag } from '../config/options/index.js';

/** One row of `GET /sessions`. Holds no secret: the token appears only as its hash. */
export interface SessionRow {
  readonly id: number;
  readonly client: string;
  readonly scheme: 'ws' | 'wss';
  readonly token_hash: string | null;
  readonly target: string;
  readonly started: string;
  readonly bytes_from_client: number;
  readonly bytes_to_client: number;
}

/** What `/readyz` reports; ready when every check is true. */
export interface ReadyReport {
  readonly listening: boolean;
  readonly draining: boolean;
  readonly certificate: boolean;
  readonly tokenSource: boolean;
}

/** What `POST /reload` answers (the server's reload result, as JSON). */
export interface AdminReloadAnswer {
  readonly ok: boolean;
  /** Options now in effect with new values. */
  readonly changed: readonly string[];
  /** Options whose new values wait for a restart. */
  readonly restartNeeded: readonly string[];
  /** Why a refused reload was refused: a stable reason code, and the problem in words. */
  readonly reason?: string;
  readonly error?: string;
}

/** What the admin routes read from and do to the proxy. */
export interface AdminDeps {
  /** Re-reads and applies the configuration, as SIGHUP does. */
  readonly reload?: () => Promise<AdminReloadAnswer>;
  readonly metrics: ProxyMetrics;
  readonly sessions: () => SessionRow[];
  /** Closes a live session with 1008; false if there is none with that id. */
  readonly closeSession: (id: number) => boolean;
  readonly ready: () => Promise<ReadyReport>;
  readonly log: Logger;
}

/** A running admin listener. */
export interface AdminServer {
  /** `127.0.0.1:9090` or `unix:/path`. */
  readonly where: string;
  readonly address: AddressInfo | undefined;
  /** Replaces the bearer token (a reload of `adminTokenFile`); undefined turns the check off. */
  setToken(token: string | undefined): void;
  close(): Promise<void>;
}

/** Whether `header` carries the bearer `token`. Constant time in the token's content (both sides are hashed first). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  const given = createHash('sha256')
    .update(m?.[1] ?? '')
    .digest();
  const wanted = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, wanted) && m !== null;
}

const OPEN_ROUTES = new Set(['/healthz', '/readyz']);

function send(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = 'application/json',
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(body);
}

const json = (value: unknown): string => JSON.stringify(value) + '\n';

/** The methods `path` takes (`GET, HEAD`, …), or undefined when there is no such route. Pure. */
export function allowedMethods(path: string, canReload: boolean): string | undefined {
  if (path === '/metrics' || path === '/healthz' || path === '/readyz' || path === '/sessions') return 'GET, HEAD';
  if (/^\/sessions\/[^/]+$/.test(path)) return 'DELETE';
  return path === '/reload' && canReload ? 'POST' : undefined;
}

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  token: string | undefined,
  tcp: boolean,
  deps: AdminDeps,
): Promise<number> {
  const method = req.method ?? '';
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const denied = refuse(req, res, { method, path, token, tcp }, deps.log);
  if (denied !== undefined) return denied;
  const allowed = allowedMethods(path, deps.reload !== undefined);
  if (allowed === undefined) {
    send(res, 404, json({ error: 'no such admin route; try /metrics, /healthz, /readyz, /sessions, /reload' }));
    return 404;
  }
  if (!allowed.split(', ').includes(method)) {
    send(res, 405, json({ error: `use ${allowed}` }), 'application/json', { Allow: allowed });
    return 405;
  }
  return serve(path, res, deps);
}

/** Answers a request access.ts refuses, or one without the bearer token; undefined lets it through. */
function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  asked: { method: string; path: string; token: string | undefined; tcp: boolean },
  log: Logger,
): number | undefined {
  const { method, path, token } = asked;
  const refusal = adminRefusal(method, req.headers, token !== undefined, asked.tcp);
  if (refusal !== undefined) {
    // One line with the reason code; no `status` field, so the proxy's handshake-failure metric does not count it.
    log.warn('admin request refused', { admin: true, reason: refusal.reason, method, path });
    send(res, refusal.status, json({ error: refusal.message, reason: refusal.reason }), 'application/json', {
      'X-Wsproxy-Reason': refusal.reason,
    });
    return refusal.status;
  }
  if (token !== undefined && !OPEN_ROUTES.has(path) && !bearerMatches(req.headers.authorization, token)) {
    send(
      res,
      401,
      json({ error: `a bearer token is required (Authorization: Bearer <token from ${flag('adminTokenFile')}>)` }),
      'application/json',
      {
        'WWW-Authenticate': 'Bearer realm="wsproxy-admin"',
      },
    );
    return 401;
  }
  return undefined;
}

/** Serves one route with an allowed method; answers and returns the status. */
async function serve(path: string, res: ServerResponse, deps: AdminDeps): Promise<number> {
  if (path === '/metrics') {
    const { contentType, text } = await deps.metrics.exposition();
    send(res, 200, text, contentType);
    return 200;
  }
  if (path === '/healthz') {
    send(res, 200, json({ status: 'ok' }));
    return 200;
  }
  if (path === '/readyz') {
    const report = await deps.ready();
    const ok = report.listening && !report.draining && report.certificate && report.tokenSource;
    send(res, ok ? 200 : 503, json({ ready: ok, ...report }));
    return ok ? 200 : 503;
  }
  if (path === '/sessions') {
    send(res, 200, json(deps.sessions()));
    return 200;
  }
  if (path === '/reload' && deps.reload) return serveReload(res, deps.reload);
  return closeSession(res, path.slice('/sessions/'.length), deps);
}

async function serveReload(res: ServerResponse, reload: () => Promise<AdminReloadAnswer>): Promise<number> {
  // Only what the server decided goes out: option names and a reason code, never a value.
  const answer = await reload();
  // 503 when nothing could be tried (starting, draining); 422 when the new configuration was refused.
  const status = answer.ok ? 200 : answer.reason === 'RELOAD_UNAVAILABLE' ? 503 : 422;
  send(
    res,
    status,
    json({
      ok: answer.ok,
      changed: answer.changed,
      restartNeeded: answer.restartNeeded,
      ...(answer.ok ? {} : { reason: answer.reason, error: answer.error }),
    }),
  );
  return status;
}

/** `DELETE /sessions/{id}`: closes that session with 1008. */
function closeSession(res: ServerResponse, idText: string, deps: AdminDeps): number {
  const id = /^\d{1,15}$/.test(idText) ? Number(idText) : NaN;
  if (!Number.isSafeInteger(id) || !deps.closeSession(id)) {
    send(res, 404, json({ error: `no live session ${idText}` }));
    return 404;
  }
  send(res, 200, json({ closed: id, close_code: 1008, reason: 'ADMIN_CLOSED' }));
  return 200;
}

/** Binds the admin listener; rejects with the bind error. */
export async function startAdmin(config: AdminConfig, deps: AdminDeps): Promise<AdminServer> {
  const log = deps.log.child({ admin: true });
  const server: Server = createServer({
    headersTimeout: 10_000,
    requestTimeout: 30_000,
    keepAliveTimeout: 5_000,
    maxHeaderSize: 16 * 1024,
  });
  // Until bound, an error is the bind failure (reported by the caller); afterwards it is logged.
  const serverOnError = (err: Error): void => log.error('admin listener error', { error: err.message });
  server.on('connection', (socket) => socket.on('error', () => socket.destroy()));
  server.on('clientError', (_err, socket) => socket.destroy());
  let token = config.token;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    route(req, res, token, config.listen.kind === 'tcp', deps).then(
      (status) => log.debug('admin request', { method: req.method, path: req.url, status }),
      (err: unknown) => {
        log.error('admin request failed', { path: req.url, error: (err as Error).message });
        if (!res.headersSent) send(res, 500, json({ error: 'internal error' }));
        else res.destroy();
      },
    );
  });
  if (config.listen.kind === 'unix') {
    await clearStaleSocket(config.listen.path, flag('adminListen'));
    listenUnix(server, { path: config.listen.path }, 0o600);
  } else {
    server.listen(config.listen.port, config.listen.host);
  }
  await new Promise<void>((resolve, reject) => {
    const bindOnError = (err: Error): void => {
      server.off('listening', serverOnListening);
      reject(err);
    };
    const serverOnListening = (): void => {
      server.off('error', bindOnError);
      resolve();
    };
    server.once('error', bindOnError);
    server.once('listening', serverOnListening);
  });
  server.on('error', serverOnError);
  if (config.listen.kind === 'unix') await chmod(config.listen.path, 0o600);
  const a = server.address();
  const address = a && typeof a === 'object' ? a : undefined;
  const where =
    config.listen.kind === 'unix'
      ? `unix:${config.listen.path}`
      : hostPort(String(address?.address), String(address?.port));
  return {
    where,
    address,
    setToken(next) {
      token = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
