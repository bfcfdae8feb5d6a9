/**
 * Wires the stages of ARCHITECTURE.md §1 for one listener: accept (caps) → sniff (deadline) → TLS or plain → HTTP →
 * upgrade → relay. Tracks connections and sessions so `close()` can drain them. Below this file nothing reads argv,
 * exits the process or installs signal handlers.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { realpathSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { findOwnCa, type OwnCa } from './certs/own-ca.js';
import { ensureSelfSignedPem } from './certs/self-signed.js';
import { loadTargetTls } from './tls/target.js';
import type { TargetTlsOptions } from './relay/connect.js';
import { defaultMaxBufferedTotal } from './config/limits.js';
import type { AuthConfig, Config, TargetSource } from './config/types.js';
import type { ConnectionContext } from './context.js';
import {
  AdminListenError,
  CertificateError,
  clientFailureReason,
  ConfigError,
  errnoCode,
  PluginModuleError,
  ReloadError,
  SetupError,
  type ReasonCode,
} from './errors.js';
import { CA_PATH, type BuiltinInfo } from './http/builtin.js';
import { createHttpServers, handleClientError, handleRequest } from './http/server.js';
import { describeThrown, failConnection, guard, guardAsync, logInternalError } from './boundary.js';
import { webRootHeaders } from './http/headers.js';
import { webSecrets, type WebSecrets } from './http/web-secrets.js';
import { reject } from './http/reject.js';
import { refuseBadFraming } from './http/framing.js';
import { createHttpUpstream } from './http/upstream.js';
import { ConnectionGate, listenOn } from './listener/listen.js';
import { sniffTransport } from './listener/sniff.js';
import { silentLogger, type LogFields, type Logger } from './log.js';
import { claimSocket, newServerId, publish } from './events.js';
import { ProxyMetrics } from './admin/metrics.js';
import { startAdmin, type AdminServer, type ReadyReport, type SessionRow } from './admin/server.js';
import type { CloseInfo, RelayStats } from './relay/relay.js';
import { Recorder } from './record/recorder.js';
import { MessageBudget } from './relay/message-budget.js';
import { createAuthenticator, customAuthenticator } from './auth/registry.js';
import type { Authenticator } from './auth/types.js';
import { startDemoEcho } from './targets/demo-echo.js';
import { fixedTarget } from './targets/fixed.js';
import { createTokenResolver, customResolver } from './targets/registry.js';
import { extractToken, hostForLog, pathForLog, type TokenFrom } from './targets/token.js';
import { loadTokenHashKey } from './targets/token-hash.js';
import type { TargetResolver } from './targets/types.js';
import { loadCertificate, profileOptions, type LoadedCertificate } from './tls/context.js';
import { peerLogFields, readPeerIdentity, requestCertVerdict } from './tls/peer.js';
import { rotateTicketKeys, startTicketRotation, watchFiles } from './tls/reload.js';
import type { TLSSocket } from 'node:tls';
import { createUpgradeHandler, type SessionInfo } from './websocket/upgrade.js';
import { SingleSession } from './websocket/single-session.js';
import { readProxyHeader } from './listener/proxy-protocol.js';
import { foldMapped, hostPort } from './net/address.js';
import { inAnyRange } from './policy/cidr.js';
import { createRequestPolicy, type RequestPolicy } from './policy/request-policy.js';
import { hostModeOf, machineHostNames } from './policy/host-allowlist.js';
import { createRevalidator } from './policy/revalidate.js';
import { applicableConfig, diffConfig, logReload, reloadFailed, type ReloadResult } from './reload.js';

/** Options for {@link createServer} besides the config. */
export interface ServerDeps {
  readonly logger?: Logger;
  /** Package version shown on the built-in page. */
  readonly version?: string;
  /** Told when a session starts relaying (process lifetime rules in main.ts use it). */
  readonly onSessionOpen?: () => void;
  /** Told when a session has ended. */
  readonly onSessionClosed?: (info: CloseInfo) => void;
  /** Where `--traffic` characters go (main.ts passes standard output). */
  readonly trafficSink?: (chars: string) => void;
  /**
   * Reads the configuration again for a reload (main.ts: the original flags and environment with the `--config`
   * file read anew). Throws `ReloadError` (or `ConfigError`). Without it a reload re-applies the running
   * configuration, which still re-reads the files it names (certificates, token files).
   */
  readonly readConfig?: () => Config;
  /** The config file a reload reads, named in its log lines. */
  readonly configFile?: string | undefined;
  /** Told the configuration each applied reload put in effect (main.ts sets the log level and format from it). */
  readonly onReload?: (applied: Config) => void;
}

/** Options for {@link WsProxyServer.reload}. */
export interface ReloadOptions {
  /** The configuration to apply instead of reading it through `ServerDeps.readConfig`. */
  readonly next?: Config;
  /** Log the outcome at debug level (a `--workers` primary logs one line for all workers instead). */
  readonly quiet?: boolean;
}

/** A snapshot of one relaying session. */
export interface SessionSnapshot extends RelayStats {
  readonly id: number;
  readonly remoteAddress: string;
  readonly scheme: 'ws' | 'wss';
  readonly target: string;
  readonly startedAt: string;
}

/** Counters since start. */
export interface ServerStats {
  readonly openConnections: number;
  readonly activeSessions: number;
  readonly refused: { readonly CONNECTION_LIMIT: number; readonly CONNECTION_LIMIT_PER_IP: number };
}

/** A wsproxy instance: `listen()`, then `close()` to drain and stop. */
export interface WsProxyServer {
  /** Binds the listener; rejects with the bind error. */
  listen(): Promise<void>;
  /** Stops accepting, closes sessions with 1001, waits up to the shutdown timeout, then cuts what is left. */
  close(): Promise<void>;
  /** Stops accepting new connections; live sessions go on. */
  stopAccepting(): void;
  /** Bound TCP addresses (after `listen()`). */
  addresses(): AddressInfo[];
  /** Where the server listens, for people: `127.0.0.1:6080`, `[::]:6080`, `unix:/run/ws.sock`. */
  listening(): string;
  /** The certificate in use, if one is loaded. */
  certificate(): LoadedCertificate | undefined;
  /**
   * Rebuilds the TLS context from the files (SIGHUP, file watch): new handshakes use it, open sessions go on. A file
   * that cannot be used keeps the old context; the answer says whether the new one is in use.
   */
  reloadTls(why?: string): Promise<boolean>;
  /**
   * Reloads the configuration (SIGHUP, `POST /reload`): reads it (or takes `options.next`), validates and prepares
   * everything that can fail (certificate, token source, plugins, target TLS), then swaps it in for new connections
   * at once; open sessions go on. A refused reload changes nothing. Options that cannot change without a restart
   * keep their running values and are named in the answer. Never rejects; logs its outcome.
   */
  reload(why?: string, options?: ReloadOptions): Promise<ReloadResult>;
  /** The configuration in effect (the start-up one, or the last reload's). */
  config(): Config;
  sessions(): SessionSnapshot[];
  stats(): ServerStats;
  /**
   * SIGTERM's drain: stop accepting (new upgrades on open connections get 503, `/readyz` turns 503 at once), let live
   * sessions go on for up to `timeoutMs`, then `close()` (1001 to whatever is left).
   */
  drain(timeoutMs: number): Promise<void>;
  /** Closes one live session with 1008 (`ADMIN_CLOSED`); false if there is none with that id. */
  closeSession(id: number): boolean;
  /** The readiness checks `/readyz` reports. */
  ready(): Promise<ReadyReport>;
  /** Where the admin listener is bound (`127.0.0.1:9090`, `unix:/path`), if there is one. */
  adminAddress(): string | undefined;
}

/** Strips the IPv4-mapped prefix so logs and per-IP caps see one address per client. */
function plainAddress(address: string | undefined): string {
  if (!address) return 'unix';
  return foldMapped(address);
}

// How often a TLS client may trigger another attempt to load a missing certificate.
const CERT_RETRY_MS = 5_000;

/**
 * Makes the files every process serving `config` must share, once, before any of them starts: the self-signed
 * certificate generated when no `--cert` was given and there is no `self.pem`. With `--workers` the primary calls this
 * before forking, so that all workers load the same certificate instead of racing to make one each.
 */
export async function prepareSharedFiles(config: Config): Promise<{ created: boolean; file: string }> {
  const file = demoCertificateFile(config);
  if (!config.tls.generateIfMissing) return { created: false, file };
  const made = await ensureSelfSignedPem(file);
  return { created: made.created, file };
}

function demoCertificateFile(config: Config): string {
  return config.tls.generateIfMissing && !config.tls.certGiven
    ? join(config.tls.stateDir, 'self-signed.pem')
    : config.tls.certFile;
}

/**
 * What a reload may replace, as one value: every stage reads the current one when a connection (or handshake)
 * arrives, so a reload is one assignment and never half-applied.
 */
interface Live {
  readonly config: Config;
  /** The certificate file actually loaded (the generated one when no `--cert` was given and there is no self.pem). */
  readonly certFile: string;
  readonly tlsProfile: ReturnType<typeof profileOptions>;
  readonly webRootReal: string | undefined;
  /** What `--web` never serves (configured secrets, private keys). */
  readonly webSecrets: WebSecrets | undefined;
  readonly authenticator: Authenticator | undefined;
  readonly recorder: Recorder | undefined;
  readonly policy: RequestPolicy;
  readonly wss: WebSocketServer;
  readonly targetTls: TargetTlsOptions | undefined;
}

/** Builds a server from `config`. Nothing is bound until `listen()`. */
export function createServer(config: Config, deps: ServerDeps = {}): WsProxyServer {
  const sessions = new Map<number, SessionInfo>();
  // Sessions holding their token source open (their slot in a fleet-wide count lives there): let go when they end.
  const resolverHolds = new Map<number, () => void>();
  const log = deps.logger ?? silentLogger;
  // Every event this server publishes carries its id (src/events.ts); its metrics count only those.
  const serverId = newServerId();
  const refused = (reason: ReasonCode): void => publish('refused', { server: serverId, reason });
  // Unfinished client messages of all sessions share one bound (--max-buffered-total; the limit follows reloads).
  const budgetLimit = (c: Config): number =>
    c.limits.maxBufferedTotal ?? defaultMaxBufferedTotal(c.limits.maxMessageBytes);
  const messageBudget = new MessageBudget(budgetLimit(config));
  // Metrics exist only with an admin listener.
  const metrics = config.admin
    ? new ProxyMetrics({
        server: serverId,
        version: deps.version ?? '0.0.0',
        sessions: () => sessions.values(),
        openConnections: () => gate.open,
        bufferedMessageBytes: () => messageBudget.used,
        onError: (err) =>
          log.error('metrics could not count an event', {
            reason: 'INTERNAL_ERROR',
            where: 'metrics',
            error: describeThrown(err),
          }),
      })
    : undefined;
  const gate = new ConnectionGate(config.limits.maxConnections, config.limits.maxConnectionsPerIp);
  const sockets = new Set<Socket>();
  // Which connection a socket belongs to. Plain sockets are mapped at hand-off; a TLS socket is created inside Node's
  // https server, so its connection is carried to 'secureConnection' by AsyncLocalStorage (the TLS wrap is created
  // inside `tlsHandoff.run`, and its callbacks run in that context) and mapped there.
  const connOf = new WeakMap<Duplex, ConnectionContext>();
  const tlsHandoff = new AsyncLocalStorage<ConnectionContext>();
  // Client certificates are asked for, but Node never rejects them itself (rejectUnauthorized false): the
  // secureConnection hook below refuses required-mode failures with a log line that says why, which Node's own
  // rejection would not (it destroys the socket silently).
  const http = createHttpServers(config.limits, {
    ...profileOptions(config.tls.options),
    requestCert: wantsClientCert(config),
    rejectUnauthorized: false,
  });
  let stopTls: (() => void)[] = [];
  const chosenProtocols = new WeakMap<IncomingMessage, string>();
  // A plugin module (--auth-plugin ./x.js) is imported in listen(); its wrapper exists from the start.
  const startAuth = buildAuth(config.auth);
  const upstream =
    config.httpUpstream === undefined
      ? undefined
      : createHttpUpstream(
          {
            url: config.httpUpstream,
            connectTimeoutMs: config.limits.connectTimeoutMs,
            responseTimeoutMs: 120_000,
            // A BasicHTTPAuth credential checked by --web-auth is wsproxy's; the application must not receive it. Asked
            // per request: a reload may turn --web-auth on while the upstream (a restart option) stays.
            stripAuthorization: () => live.config.auth?.webAuth === true && live.config.auth.plugin === 'BasicHTTPAuth',
            underscoreHeaders: () => live.config.upstreamUnderscoreHeaders === true,
          },
          log,
        );

  // The automatic Host list follows the certificate in use, also across TLS reloads.
  const certNames = (): readonly string[] => cert?.names ?? [];
  let live: Live = {
    config,
    certFile: demoCertificateFile(config),
    tlsProfile: profileOptions(config.tls.options),
    webRootReal: config.webRoot === undefined ? undefined : realpathSync(config.webRoot),
    webSecrets: config.webRoot === undefined ? undefined : webSecrets(config),
    authenticator: startAuth.authenticator,
    recorder:
      config.recordPrefix === undefined
        ? undefined
        : new Recorder(config.recordPrefix, log, config.limits.maxMessageBytes),
    policy: createRequestPolicy(
      config.clientAddress,
      config.policy,
      Date.now,
      undefined,
      hostModeOf(config, certNames, machineHostNames()),
    ),
    wss: makeWss(config.limits.maxMessageBytes),
    targetTls: undefined,
  };

  let netServer: NetServer | undefined;
  let resolver: TargetResolver | undefined;
  let cert: LoadedCertificate | undefined;
  let certProblem: CertificateError | undefined;
  let lastCertAttempt = 0;
  let started = false;
  let shuttingDown = false;
  let draining = false;
  let admin: AdminServer | undefined;
  let nextId = 0;
  let ownCa: OwnCa | undefined;
  let tokenHashKeyLoaded = false;
  // Reloads run one after another; each waits for the one before.
  let reloading: Promise<unknown> = Promise.resolve();

  function makeWss(maxPayload: number): WebSocketServer {
    const wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload,
      handleProtocols: (_offered, req) => chosenProtocols.get(req) ?? false,
    });
    wss.on('error', (err) => log.error('websocket server error', { error: err.message }));
    // If ws ever refuses a handshake itself, answer through the same path as every other refusal.
    wss.on(
      'wsClientError',
      guard(
        (err: Error, socket: Duplex) => {
          handleClientError(err, socket, connOf.get(socket)?.log ?? log);
        },
        (err, _e, socket) =>
          failConnection(socket, err, { log: connOf.get(socket)?.log ?? log, where: 'wsClientError' }),
      ),
    );
    return wss;
  }

  function buildAuth(auth: AuthConfig | undefined): {
    authenticator: Authenticator | undefined;
    load?: () => Promise<void>;
  } {
    if (auth === undefined) return { authenticator: undefined };
    if (auth.custom === true) {
      const custom = customAuthenticator(auth.plugin, auth.source, log);
      return { authenticator: custom.authenticator, load: () => custom.load() };
    }
    return { authenticator: createAuthenticator(auth.plugin, auth.source) };
  }

  /** Builds the token source (or fixed/demo resolver) for `targets`; throws what the plugin throws. */
  async function buildResolver(targets: TargetSource): Promise<TargetResolver> {
    const built =
      targets.kind === 'demo'
        ? await startDemoEcho()
        : targets.kind === 'token' && targets.custom === true
          ? await customResolver(targets.plugin, targets.source === '' ? undefined : targets.source, log)
          : targets.kind === 'token'
            ? createTokenResolver(targets.plugin, targets.source, log, {
                jwtAudience: targets.jwtAudience,
                jwtIssuer: targets.jwtIssuer,
                jwtAllowNoExp: targets.jwtAllowNoExp,
              })
            : fixedTarget(targets.target);
    return metrics ? metrics.observeResolver(built) : built;
  }

  // A replaced token source is closed once nothing uses it any more: no handshake that started with it, and no
  // session holding a slot in its fleet-wide count (closing would stop the heartbeat that keeps those slots).
  const resolverUsers = new Map<TargetResolver, number>();
  const retiring = new Set<TargetResolver>();
  function holdResolver(r: TargetResolver): () => void {
    resolverUsers.set(r, (resolverUsers.get(r) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (resolverUsers.get(r) ?? 1) - 1;
      if (left > 0) resolverUsers.set(r, left);
      else {
        resolverUsers.delete(r);
        if (retiring.has(r)) closeRetired(r);
      }
    };
  }
  function closeRetired(r: TargetResolver): void {
    retiring.delete(r);
    r.close?.().catch((err: unknown) =>
      log.warn('closing the replaced token source failed', { plugin: r.name, error: (err as Error).message }),
    );
  }
  function retireResolver(r: TargetResolver): void {
    retiring.add(r);
    if (!resolverUsers.has(r)) closeRetired(r);
    else
      log.debug('the replaced token source closes once its handshakes and sessions end', {
        plugin: r.name,
        users: resolverUsers.get(r),
      });
  }

  async function tryLoadCertificate(): Promise<void> {
    lastCertAttempt = Date.now();
    const { config: current, certFile, tlsProfile } = live;
    try {
      const loaded = await loadCertificate({ ...current.tls, certFile });
      http.secure.setSecureContext({ ...tlsProfile, ...loaded.options });
      cert = loaded;
      certProblem = undefined;
      ownCa = await findOwnCa(certFile);
    } catch (err) {
      if (!(err instanceof CertificateError)) throw err;
      certProblem = err;
    }
  }

  async function reloadTls(why = 'reload'): Promise<boolean> {
    const before = cert;
    await tryLoadCertificate();
    if (certProblem !== undefined) {
      log.error(
        before ? 'TLS reload failed; the previous certificate stays in use' : 'TLS reload failed; TLS stays off',
        { why, problem: certProblem.message },
      );
      return false;
    }
    // Tickets issued under the old context would resume sessions verified against the old CA/CRL: start afresh.
    rotateTicketKeys(http.secure);
    log.info('TLS reloaded', {
      why,
      sha256: cert?.fingerprint256 ?? '',
      changed: before?.fingerprint256 !== cert?.fingerprint256 ? 'yes' : 'no',
    });
    return true;
  }

  /**
   * Installs the key of token_hash once a token source is in use (at start, or on the reload that adds one): made in
   * the state dir on first use unless --token-hash-key-file names one. Throws a one-line error.
   */
  async function installTokenHashKey(c: Config): Promise<void> {
    const where = c.tokenHashKey;
    if (where === undefined || tokenHashKeyLoaded || c.targets.kind !== 'token') return;
    try {
      if (await loadTokenHashKey(where))
        log.info('made the key for token_hash (kept for restarts)', { file: where.file });
    } catch (err) {
      throw new Error(`${where.given ? '--token-hash-key-file' : '--state-dir'}: ${firstLine(err)}`, { cause: err });
    }
    tokenHashKeyLoaded = true;
    if (!where.given && c.targets.plugin === 'TokenRedis') {
      log.warn(
        'TokenRedis without --token-hash-key-file: token_hash in logs and /sessions differs between nodes; give every node the same key file to match them',
      );
    }
  }

  /** Ticket key rotation and the certificate file watch, for `current`; returns their stoppers. */
  function startTlsUpkeep(current: Config, certFile: string): (() => void)[] {
    const stops: (() => void)[] = [];
    const options = current.tls.options;
    if (options?.sessionTickets !== false)
      stops.push(startTicketRotation(http.secure, options?.ticketRotateMs ?? 86_400_000));
    if (options?.watchFiles !== false) {
      const clientCert = current.tls.clientCert;
      const files = [
        certFile,
        current.tls.keyFile,
        options?.chainFile,
        clientCert?.caFile,
        clientCert?.crlFile,
        options?.dhparamFile,
      ].filter((f) => f !== undefined);
      stops.push(
        watchFiles(
          files,
          (file) => {
            reloadTls(`file changed: ${file}`).catch((err: unknown) =>
              log.error('TLS reload failed', { error: (err as Error).message }),
            );
          },
          log,
        ),
      );
    }
    return stops;
  }

  const singleSession = config.lifecycle?.runOnce === true ? new SingleSession() : undefined;
  const upgrade = createUpgradeHandler({
    get config(): Config {
      return live.config;
    },
    get resolver(): TargetResolver {
      if (!resolver) throw new Error('server not listening');
      return resolver;
    },
    holdResolver,
    get wss(): WebSocketServer {
      return live.wss;
    },
    chosenProtocols,
    get authenticator(): Authenticator | undefined {
      return live.authenticator;
    },
    get recorder(): Recorder | undefined {
      return live.recorder;
    },
    get trafficSink(): ((chars: string) => void) | undefined {
      return live.config.traffic ? deps.trafficSink : undefined;
    },
    isShuttingDown: () => shuttingDown || draining,
    onTargetConnect: (ms, failure) => publish('targetConnect', { server: serverId, ms, failure }),
    get policy(): RequestPolicy {
      return live.policy;
    },
    get targetTls(): TargetTlsOptions | undefined {
      return live.targetTls;
    },
    singleSession,
    messageBudget,
    onSession: (session) => {
      sessions.set(session.id, session);
      // --run-once: nobody else can have a session; new clients find the port closed.
      if (singleSession) netServer?.close();
      // A slot in a fleet-wide count (TokenRedis with --max-sessions-per-token) lives only while its source is open.
      const holdsSlot =
        session.resolver?.sessionCounter !== undefined && (live.config.policy?.maxSessionsPerToken ?? 0) > 0;
      if (holdsSlot && session.resolver) resolverHolds.set(session.id, holdResolver(session.resolver));
      deps.onSessionOpen?.(); // last: if the embedder's hook throws, the session is fully tracked and ends with 1011
    },
    onSessionEnd: (session, info) => {
      sessions.delete(session.id);
      resolverHolds.get(session.id)?.();
      resolverHolds.delete(session.id);
      publish('sessionClosed', {
        server: serverId,
        reason: info.reason,
        bytesFromClient: info.bytesFromClient,
        bytesToClient: info.bytesToClient,
        durationMs: info.durationMs,
      });
      deps.onSessionClosed?.(info);
    },
  });

  // Token revocation (websockify#229): re-resolve live sessions when the source says it changed, or periodically.
  // Rebuilt on a reload (new source to watch, new interval).
  const makeRevalidator = (intervalMs: number) =>
    createRevalidator({
      sessions: () => sessions.values(),
      resolver: () => resolver,
      intervalMs,
      log,
    });
  let revalidatorInterval = config.policy?.revalidateIntervalMs ?? 0;
  let revalidator = makeRevalidator(revalidatorInterval);

  const info = (): BuiltinInfo => ({
    version: deps.version ?? '0.0.0',
    demo: live.config.targets.kind === 'demo',
    websocketPath: '/websockify',
    certificate: cert
      ? {
          loaded: true,
          fingerprint256: cert.fingerprint256,
          subject: cert.subject,
          names: cert.names,
          validTo: cert.validTo,
        }
      : { loaded: false },
    ...(ownCa
      ? { ca: { path: CA_PATH, fingerprint256: ownCa.fingerprint256, subject: ownCa.subject, validTo: ownCa.validTo } }
      : {}),
  });

  // --token-from-path: a request path's last segment may be a token; log lines show it as ***.
  // Where a token sits (path or host name) is read from the live configuration: a reload may change it.
  const tokenFrom = (): TokenFrom => (live.config.targets.kind === 'token' ? live.config.targets.from : 'query');
  const logPath = (path: string): string => pathForLog(path, tokenFrom());
  // A token in the path or Host that an error message might carry: kept out of the boundary's line.
  function requestSecret(req: IncomingMessage): string | undefined {
    try {
      return live.config.targets.kind === 'token'
        ? extractToken(req.url ?? '/', req.headers.host, tokenFrom())
        : undefined;
    } catch {
      return undefined;
    }
  }
  const connLog = (socket: Duplex): Logger => connOf.get(socket)?.log ?? log;
  // Every handler below runs inside the error boundary (src/boundary.ts): what it throws ends its connection only.
  const failRequest = (err: unknown, req: IncomingMessage, res: ServerResponse): void =>
    failConnection(res, err, { log: connLog(req.socket), where: 'request', secret: requestSecret(req) });
  const failUpgrade = (err: unknown, req: IncomingMessage, socket: Duplex): void =>
    failConnection(socket, err, { log: connLog(socket), where: 'upgrade', secret: requestSecret(req) });
  for (const server of [http.plain, http.secure]) {
    server.on(
      'request',
      guard((req: IncomingMessage, res: ServerResponse) => {
        const { config: current, policy, webRootReal, authenticator } = live;
        const direct = connOf.get(req.socket);
        direct?.handshakeDone();
        const conn = direct && policy.requestConn(direct, req);
        if (refuseBadFraming(req, res, conn?.log ?? log)) return;
        if (conn && !forwardedClientAdmitted(conn, req.socket, false)) return;
        const hostRefusal = policy.checkHost(req);
        if (hostRefusal) {
          reject(res, hostRefusal.code, {
            log: conn?.log ?? log,
            ...(hostRefusal.message ? { message: hostRefusal.message } : {}),
            fields: {
              path: logPath((req.url ?? '').split('?')[0] ?? ''),
              ...hostRefusal.fields,
              host: hostForLog(req.headers.host ?? '', tokenFrom()),
            },
          });
          return;
        }
        // --verify-client required covers pages, files and the upstream too, not only upgrades.
        const certVerdict = requestCertVerdict(current.tls.clientCert, server === http.secure, conn?.peer);
        if (!certVerdict.ok) {
          reject(res, certVerdict.code, {
            log: conn?.log ?? log,
            message: certVerdict.message,
            fields: {
              method: req.method ?? '',
              path: logPath((req.url ?? '').split('?')[0] ?? ''),
              ...peerLogFields(conn?.peer),
            },
          });
          return;
        }
        // HSTS only over https (RFC 6797 §7.2) and only when asked: it makes a self-signed certificate un-clickable.
        const hsts = current.tls.options?.hstsSeconds ?? 0;
        if (hsts > 0 && server === http.secure) res.setHeader('Strict-Transport-Security', `max-age=${hsts}`);
        handleRequest(
          req,
          res,
          conn,
          {
            webRootReal,
            webHeaders: webRootHeaders(current.webCsp),
            webSecrets: live.webSecrets,
            info,
            caCert: () => ownCa?.pem,
            webAuth: current.auth?.webAuth ? authenticator : undefined,
            authGuard: (c) => policy.authAttempt(c),
            upstream,
            logPath,
          },
          log,
        ).catch((err: unknown) => {
          failRequest(err, req, res);
        });
      }, failRequest),
    );
    server.on(
      'upgrade',
      guard((req: IncomingMessage, socket: Duplex, head: Buffer) => {
        const conn = connOf.get(socket);
        if (!conn) {
          socket.destroy();
          return;
        }
        conn.handshakeDone();
        const rconn = live.policy.requestConn(conn, req);
        if (!forwardedClientAdmitted(rconn, socket, true)) return;
        upgrade(req, socket, head, rconn).catch((err: unknown) => {
          failUpgrade(err, req, socket);
        });
      }, failUpgrade),
    );
    server.on(
      'clientError',
      guard(
        (err: Error, socket: Duplex) => {
          handleClientError(err, socket, connOf.get(socket)?.log ?? log);
        },
        (err, _e, socket) => failConnection(socket, err, { log: connLog(socket), where: 'clientError' }),
      ),
    );
    // Without this Node answers any other Expect with a bare 417 of its own: no reason, no log line, kept alive.
    server.on(
      'checkExpectation',
      guard((req: IncomingMessage, res: ServerResponse) => {
        reject(res, 'EXPECTATION_FAILED', {
          log: connOf.get(req.socket)?.log ?? log,
          fields: { path: logPath((req.url ?? '').split('?')[0] ?? '') },
          quiet: true,
        });
      }, failRequest),
    );
  }
  // Before https' own listener, so the mapping exists before any request on this socket can be parsed.
  http.secure.prependListener(
    'secureConnection',
    guard(
      (tlsSocket: TLSSocket) => {
        const conn = tlsHandoff.getStore();
        if (!conn) {
          tlsSocket.destroy(); // cannot happen: every TLS socket is handed off inside tlsHandoff.run
          return;
        }
        const clientCert = live.config.tls.clientCert;
        if (clientCert !== undefined && clientCert.mode !== 'off') {
          // Read once: everything later (upgrade gate, auth plugins, logs) uses this value, never the socket or a header.
          conn.peer = readPeerIdentity(tlsSocket, clientCert.verifyDepth);
          if (clientCert.mode === 'required' && !conn.peer.authorized) {
            conn.log.info('TLS client refused: no valid client certificate', {
              reason: 'TLS_CLIENT_CERT_REJECTED',
              verify_error: conn.peer.verifyError ?? '',
              ...peerLogFields(conn.peer),
            });
            refused('TLS_CLIENT_CERT_REJECTED');
            tlsSocket.destroy();
            return;
          }
        }
        connOf.set(tlsSocket, conn);
        claimSocket(tlsSocket, serverId);
      },
      (err, tlsSocket) => {
        logInternalError(err, { log: tlsHandoff.getStore()?.log ?? log, where: 'secureConnection' });
        tlsSocket.destroy();
      },
    ),
  );
  http.secure.on(
    'tlsClientError',
    guard(
      (err: Error, tlsSocket: Duplex) => {
        const conn = tlsHandoff.getStore();
        (conn?.log ?? log).debug('TLS handshake failed', {
          reason: 'TLS_HANDSHAKE_FAILED',
          error: errnoCode(err) ?? err.message,
        });
        refused('TLS_HANDSHAKE_FAILED');
        tlsSocket.destroy();
      },
      (err, _e, tlsSocket) => {
        logInternalError(err, { log: tlsHandoff.getStore()?.log ?? log, where: 'tlsClientError' });
        tlsSocket.destroy();
      },
    ),
  );

  async function socketOnConnection(socket: Socket): Promise<void> {
    // Rule 1: an 'error' listener before anything else can happen on this socket.
    claimSocket(socket, serverId);
    socket.on('error', (err) => {
      (connOf.get(socket)?.log ?? log).debug('client socket error', {
        reason: clientFailureReason(err),
        error: errnoCode(err) ?? err.message,
      });
    });
    const remoteAddress = plainAddress(socket.remoteAddress);
    const remotePort = socket.remotePort ?? 0;
    if (shuttingDown || draining) {
      socket.destroy();
      return;
    }
    // One configuration for the whole connection, even if a reload happens while it handshakes.
    const current = live.config;
    const proxyIn = current.clientAddress?.proxyProtocolIn === true;
    if (
      proxyIn &&
      socket.remoteAddress !== undefined &&
      !inAnyRange(current.clientAddress?.trustedProxies ?? [], remoteAddress)
    ) {
      log.info('connection refused: PROXY protocol expected from a --trusted-proxy peer', {
        reason: 'PROXY_UNTRUSTED',
        peer: `${remoteAddress}:${remotePort}`,
      });
      refused('PROXY_UNTRUSTED');
      socket.destroy();
      return;
    }
    // Behind a PROXY-protocol balancer the socket's address is the balancer's: the per-IP cap waits for the header.
    // Behind a --trust-forwarded reverse proxy it waits for each request's forwarded client (countClient below).
    const viaForwarder =
      !proxyIn &&
      current.clientAddress?.trustForwarded === true &&
      socket.remoteAddress !== undefined &&
      inAnyRange(current.clientAddress.trustedProxies, remoteAddress);
    let gateKey = socket.remoteAddress === undefined || proxyIn || viaForwarder ? undefined : remoteAddress;
    const admitted = gate.admit(gateKey);
    if (!admitted.ok) {
      log.debug('connection refused', { reason: admitted.reason, peer: `${remoteAddress}:${remotePort}` });
      refused(admitted.reason);
      socket.destroy();
      return;
    }
    sockets.add(socket);
    const id = ++nextId;
    let stage = proxyIn ? 'PROXY header' : 'first byte';
    let deadline: NodeJS.Timeout | undefined = setTimeout(() => {
      conn.log.debug('handshake deadline passed', { reason: 'HANDSHAKE_TIMEOUT', stage });
      refused('HANDSHAKE_TIMEOUT');
      socket.destroy();
    }, current.limits.handshakeTimeoutMs);
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
            if (!hold || gateKey !== undefined) return !gate.atCap(address);
            if (!gate.assign(address).ok) return false;
            gateKey = address;
            return true;
          }
        : undefined,
    };
    // 'close' comes once: on() rather than once(), whose wrapper would stay for the connection's life.
    socket.on('close', () => {
      stopDeadline();
      sockets.delete(socket);
      gate.release(gateKey);
    });
    if (proxyIn) {
      const header = await readProxyHeader(socket);
      if (header === undefined) {
        conn.log.debug('client left before sending a PROXY header', { reason: 'PROXY_HEADER_INCOMPLETE' });
        return;
      }
      if (header.kind === 'invalid') {
        conn.log.info('connection closed: no valid PROXY protocol header', {
          reason: 'PROXY_HEADER_INVALID',
          problem: header.problem,
        });
        refused('PROXY_HEADER_INVALID');
        socket.destroy();
        return;
      }
      if (header.source) {
        const real = foldMapped(header.source.address);
        conn.remoteAddress = real;
        conn.remotePort = header.source.port;
        conn.proxyPeer = `${remoteAddress}:${remotePort}`;
        conn.localAddress = header.destination ? foldMapped(header.destination.address) : conn.localAddress;
        conn.localPort = header.destination?.port ?? conn.localPort;
        conn.log = log.child({ conn: id, peer: hostPort(real, header.source.port), proxy: conn.proxyPeer });
      }
      if (socket.remoteAddress !== undefined) {
        // Now the client's own address counts against --max-connections-per-ip (LOCAL health checks: the balancer's).
        const assigned = gate.assign(conn.remoteAddress);
        if (!assigned.ok) {
          conn.log.debug('connection refused', { reason: assigned.reason });
          refused(assigned.reason);
          socket.destroy();
          return;
        }
        gateKey = conn.remoteAddress;
      }
      stage = 'first byte';
    }
    socket.resume(); // the listener paused it on connect (or the PROXY reader after the header)

    const transport = await sniffTransport(socket);
    if (transport === undefined) {
      conn.log.debug('client left before sending anything', { reason: 'CLIENT_LEFT_EARLY' });
      return;
    }
    if (transport === 'tls') {
      if (!cert && Date.now() - lastCertAttempt >= CERT_RETRY_MS) await tryLoadCertificate();
      if (!cert) {
        conn.log.warn('TLS client refused: no certificate loaded', {
          reason: 'TLS_NOT_CONFIGURED',
          problem: certProblem?.message ?? 'not loaded',
        });
        refused('TLS_NOT_CONFIGURED');
        socket.destroy();
        return;
      }
      conn.tls = true;
      conn.log = conn.log.child({ tls: true });
      stage = 'TLS handshake';
      tlsHandoff.run(conn, () => http.secure.emit('connection', socket));
    } else {
      if (current.tls.sslOnly) {
        conn.log.debug('plain client refused (--ssl-only)', { reason: 'PLAIN_REFUSED' });
        refused('PLAIN_REFUSED');
        socket.destroy();
        return;
      }
      stage = 'request headers';
      connOf.set(socket, conn);
      http.plain.emit('connection', socket);
    }
    // sniffTransport left the socket paused with the first bytes put back; the next stage reads from the start.
    process.nextTick(() => socket.resume());
  }

  /** The per-IP cap for a request's forwarded client (see ConnectionContext.countClient); refused: closed, as at accept. */
  function forwardedClientAdmitted(conn: ConnectionContext, socket: Duplex, hold: boolean): boolean {
    if (conn.countClient === undefined || conn.countClient(conn.remoteAddress, hold)) return true;
    conn.log.debug('connection refused', { reason: 'CONNECTION_LIMIT_PER_IP' });
    refused('CONNECTION_LIMIT_PER_IP');
    socket.destroy();
    return false;
  }

  function closeSession(id: number): boolean {
    const session = sessions.get(id);
    if (!session) return false;
    session.conn.log.info('session closed by operator', { reason: 'ADMIN_CLOSED' });
    session.relay.close('ADMIN_CLOSED', 1008, 'Closed by operator');
    return true;
  }

  async function ready(): Promise<ReadyReport> {
    // A certificate counts only where one was asked for; a plain-only proxy without one is ready.
    const tls = live.config.tls;
    const certNeeded = tls.certGiven || tls.sslOnly || tls.generateIfMissing;
    const health = resolver === undefined ? { ok: false } : ((await resolver.health?.()) ?? { ok: true });
    return {
      listening: netServer?.listening === true,
      draining: draining || shuttingDown,
      certificate: !certNeeded || cert !== undefined,
      tokenSource: health.ok,
    };
  }

  function sessionRows(): SessionRow[] {
    return [...sessions.values()].map((s) => {
      const st = s.relay.stats();
      return {
        id: s.id,
        client: hostPort(s.conn.remoteAddress, s.conn.remotePort),
        scheme: s.scheme,
        token_hash: s.tokenHash ?? null,
        target: s.target,
        started: new Date(s.startedAt).toISOString(),
        bytes_from_client: st.bytesFromClient,
        bytes_to_client: st.bytesToClient,
      };
    });
  }

  // ---- Reload (issue #7): prepare everything that can fail, then swap in one step. ----

  /** What a reload built before the swap: applied together, or (if anything failed) thrown away together. */
  interface Prepared {
    readonly live: Live;
    /** The new certificate; undefined when TLS was off and stays off (no certificate asked for, none there). */
    readonly cert: LoadedCertificate | undefined;
    readonly ownCa: OwnCa | undefined;
    /** A new token source, or undefined when the running one stays. */
    readonly resolver: TargetResolver | undefined;
  }

  /** The first line of an error, for a reload line (plugins and loaders put details on later lines). */
  const firstLine = (err: unknown): string => ((err as Error).message ?? String(err)).split('\n')[0] ?? 'unusable';

  /** Waits until a new token source can answer (Redis connected), so /readyz stays green across the swap. */
  async function untilHealthy(r: TargetResolver, timeoutMs: number): Promise<void> {
    if (!r.health) return;
    const end = Date.now() + timeoutMs;
    for (;;) {
      const h = await r.health();
      if (h.ok) return;
      if (Date.now() >= end)
        throw new ReloadError(
          'TOKEN_SOURCE_UNUSABLE',
          `--token-source: the new token source does not answer${h.detail === undefined ? '' : ` (${h.detail})`}`,
          { flag: '--token-source' },
        );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function prepare(next: Config): Promise<Prepared> {
    const running = live.config;
    const certFile = demoCertificateFile(next);
    const tlsProfile = profileOptions(next.tls.options);
    let loaded: LoadedCertificate | undefined;
    let nextOwnCa: OwnCa | undefined;
    try {
      await prepareSharedFiles(next);
      loaded = await loadCertificate({ ...next.tls, certFile });
      nextOwnCa = await findOwnCa(certFile);
    } catch (err) {
      // TLS that was off (no --cert, no self.pem, nothing generated) may stay off; a certificate in use or asked
      // for must load, or the reload is refused and the running one stays.
      if (cert !== undefined || next.tls.certGiven || !(err instanceof CertificateError))
        throw new ReloadError('CERTIFICATE_UNUSABLE', firstLine(err), { flag: '--cert' });
    }
    try {
      await installTokenHashKey(next);
    } catch (err) {
      throw new ReloadError('TOKEN_SOURCE_UNUSABLE', firstLine(err), { flag: '--token-plugin' });
    }
    let targetTls: TargetTlsOptions | undefined;
    if (next.targetTls) {
      try {
        targetTls = await loadTargetTls(next.targetTls);
      } catch (err) {
        throw new ReloadError('TARGET_TLS_UNUSABLE', firstLine(err), { flag: '--ssl-target' });
      }
    }
    let webRootReal: string | undefined;
    try {
      webRootReal = next.webRoot === undefined ? undefined : realpathSync(next.webRoot);
    } catch (err) {
      throw new ReloadError(
        'CONFIG_INVALID',
        `--web: '${next.webRoot ?? ''}' cannot be used (${errnoCode(err) ?? firstLine(err)})`,
        { flag: '--web' },
      );
    }
    let authenticator = live.authenticator;
    if (!isDeepStrictEqual(running.auth, next.auth)) {
      try {
        const auth = buildAuth(next.auth);
        await auth.load?.();
        authenticator = auth.authenticator;
      } catch (err) {
        throw new ReloadError('PLUGIN_UNUSABLE', firstLine(err), { flag: '--auth-plugin' });
      }
    }
    // The running source stays when nothing about it changed and rebuilding it would cost: a fixed or demo target,
    // or a source holding a fleet-wide session count (TokenRedis: new connections, and its count would restart).
    // Token files and APIs are rebuilt, so their files are read again and their caches start empty.
    const keep =
      resolver !== undefined &&
      isDeepStrictEqual(running.targets, next.targets) &&
      (next.targets.kind !== 'token' || resolver.sessionCounter !== undefined);
    let nextResolver: TargetResolver | undefined;
    if (!keep) {
      try {
        nextResolver = await buildResolver(next.targets);
      } catch (err) {
        throw new ReloadError(
          err instanceof PluginModuleError ? 'PLUGIN_UNUSABLE' : 'TOKEN_SOURCE_UNUSABLE',
          err instanceof PluginModuleError ? firstLine(err) : `--token-source: ${firstLine(err)}`,
          { flag: '--token-source' },
        );
      }
      try {
        await untilHealthy(nextResolver, Math.min(next.limits.connectTimeoutMs, 5_000));
      } catch (err) {
        await nextResolver.close?.();
        throw err;
      }
    }
    return {
      live: {
        config: next,
        certFile,
        tlsProfile,
        webRootReal,
        webSecrets: webRootReal === undefined ? undefined : webSecrets(next),
        authenticator,
        recorder:
          next.recordPrefix === running.recordPrefix && next.limits.maxMessageBytes === running.limits.maxMessageBytes
            ? live.recorder
            : next.recordPrefix === undefined
              ? undefined
              : new Recorder(next.recordPrefix, log, next.limits.maxMessageBytes),
        policy: createRequestPolicy(
          next.clientAddress,
          next.policy,
          Date.now,
          live.policy,
          hostModeOf(next, certNames, machineHostNames()),
        ),
        wss:
          next.limits.maxMessageBytes === running.limits.maxMessageBytes
            ? live.wss
            : makeWss(next.limits.maxMessageBytes),
        targetTls,
      },
      cert: loaded,
      ownCa: nextOwnCa,
      resolver: nextResolver,
    };
  }

  /** Puts a prepared reload in effect. Synchronous: no connection sees half of it. */
  function commit(p: Prepared): void {
    const next = p.live.config;
    live = p.live;
    messageBudget.limit = budgetLimit(next);
    if (p.cert) {
      http.secure.setSecureContext({ ...p.live.tlsProfile, ...p.cert.options });
      cert = p.cert;
      certProblem = undefined;
      ownCa = p.ownCa;
      // Tickets issued under the old context would resume sessions verified against the old CA/CRL: start afresh.
      rotateTicketKeys(http.secure);
    }
    // Read by Node for each new TLS socket (tls.Server#requestCert); there is no setter in the API.
    (http.secure as unknown as { requestCert: boolean }).requestCert = wantsClientCert(next);
    gate.setLimits(next.limits.maxConnections, next.limits.maxConnectionsPerIp);
    for (const server of [http.plain, http.secure]) {
      server.headersTimeout = next.limits.handshakeTimeoutMs;
      server.requestTimeout = Math.max(30_000, next.limits.handshakeTimeoutMs);
    }
    for (const stop of stopTls) stop();
    stopTls = startTlsUpkeep(next, p.live.certFile);
    admin?.setToken(next.admin?.token);
    const intervalMs = next.policy?.revalidateIntervalMs ?? 0;
    const replaced = p.resolver !== undefined ? resolver : undefined;
    if (p.resolver !== undefined) resolver = p.resolver;
    // A new source to watch, or a new --revalidate-interval: the revalidator starts over (the old one unwatches).
    if (replaced !== undefined || intervalMs !== revalidatorInterval) {
      revalidator.stop();
      revalidatorInterval = intervalMs;
      revalidator = makeRevalidator(intervalMs);
      revalidator.start();
    }
    if (replaced !== undefined) {
      retireResolver(replaced);
      // Sessions admitted by the old source are checked against the new one at once, as a revocation would be.
      void revalidator.run();
    }
  }

  async function reloadNow(why: string, options: ReloadOptions): Promise<ReloadResult> {
    let fields: LogFields = { why, ...(deps.configFile === undefined ? {} : { file: deps.configFile }) };
    const debug = (msg: string, f?: LogFields): void => log.debug(msg, f);
    const out: Logger = options.quiet ? { ...log, info: debug, warn: debug, error: debug } : log;
    let result: ReloadResult;
    if (!started || shuttingDown || draining) {
      result = reloadFailed(
        'RELOAD_UNAVAILABLE',
        shuttingDown || draining ? 'the server is shutting down' : 'the server is still starting',
      );
    } else {
      try {
        const requested = options.next ?? deps.readConfig?.() ?? live.config;
        const running = live.config;
        const next = applicableConfig(running, requested);
        const before = cert?.fingerprint256;
        commit(await prepare(next));
        const { changed, restartNeeded } = diffConfig(running, requested);
        result = { ok: true, changed, restartNeeded };
        // A renewed certificate changes no option, but it is what an operator reloads for after certbot ran.
        if (cert !== undefined && cert.fingerprint256 !== before)
          fields = { ...fields, certificate_sha256: cert.fingerprint256 };
        deps.onReload?.(next);
      } catch (err) {
        if (err instanceof ReloadError) result = reloadFailed(err.code, err.message);
        else if (err instanceof ConfigError) result = reloadFailed('CONFIG_INVALID', err.message);
        else result = reloadFailed('CONFIG_INVALID', firstLine(err));
      }
    }
    publish('configReloaded', { server: serverId, result: result.ok ? 'ok' : result.reason });
    logReload(out, result, fields);
    return result;
  }

  return {
    async listen(): Promise<void> {
      const current = live.config;
      // Made before binding (TLS must work from the first client) but announced after, so a bind error stays one line.
      const made = await prepareSharedFiles(current);
      await tryLoadCertificate();
      if (current.tls.options?.minVersion === 'TLSv1.1') {
        log.warn(
          '--ssl-version tlsv1_1 allows TLS 1.1, which browsers dropped in 2020; TLS 1.1 also needs CBC suites in --ssl-ciphers',
        );
      }
      if (current.tls.clientCert !== undefined && current.tls.clientCert.caFile === undefined) {
        log.warn(
          'client certificates are checked against the system CAs (websockify default); give --cafile to trust only your CA',
        );
      }
      stopTls = startTlsUpkeep(current, live.certFile);
      if (current.targetTls) {
        live = { ...live, targetTls: await loadTargetTls(current.targetTls) };
        if (!live.targetTls?.verify)
          log.warn(
            '--target-verify none: the target certificate is not checked; anyone on the path to the target can read and change the sessions',
          );
      }
      try {
        await installTokenHashKey(current);
      } catch (err) {
        throw new SetupError('TOKEN_SOURCE_UNUSABLE', (err as Error).message, { cause: err });
      }
      try {
        await startAuth.load?.();
      } catch (err) {
        throw new SetupError('PLUGIN_UNUSABLE', (err as Error).message.split('\n')[0] ?? '--auth-plugin: unusable');
      }
      try {
        resolver = await buildResolver(current.targets);
      } catch (err) {
        // A token source that cannot be used at start is a configuration problem, not a listen failure.
        const first = (err as Error).message.split('\n')[0] ?? 'unusable';
        throw err instanceof PluginModuleError
          ? new SetupError('PLUGIN_UNUSABLE', first)
          : new SetupError('TOKEN_SOURCE_UNUSABLE', `--token-source: ${first}`);
      }
      try {
        netServer = await listenOn(
          current.listen,
          guardAsync(socketOnConnection, (err, socket) => {
            logInternalError(err, { log: connOf.get(socket)?.log ?? log, where: 'connection' });
            socket.destroy();
          }),
        );
      } catch (err) {
        await resolver.close?.();
        throw err;
      }
      netServer.on('error', (err) => log.error('listener error', { error: err.message }));
      revalidator.start();
      if (current.admin && metrics) {
        try {
          admin = await startAdmin(current.admin, {
            metrics,
            log,
            sessions: sessionRows,
            closeSession,
            ready,
            reload: () => this.reload('POST /reload'),
          });
        } catch (err) {
          await this.close();
          // main.ts words this like a listen failure, naming the admin address.
          throw new AdminListenError(err);
        }
      }
      started = true;
      if (made.created)
        log.info('made a self-signed certificate (no --cert given and no self.pem here)', { file: live.certFile });
      if (certProblem) log.warn('TLS disabled until the certificate can be loaded', { problem: certProblem.message });
    },

    reload(why = 'reload', options: ReloadOptions = {}): Promise<ReloadResult> {
      const run = reloading.then(() => reloadNow(why, options));
      reloading = run;
      return run;
    },

    config: () => live.config,

    async close(): Promise<void> {
      if (shuttingDown) return;
      shuttingDown = true;
      revalidator.stop();
      for (const stop of stopTls) stop();
      const stopped = new Promise<void>((resolve) => {
        if (!netServer?.listening) resolve();
        else netServer.close(() => resolve());
      });
      http.plain.closeIdleConnections();
      http.secure.closeIdleConnections();
      const open = [...sessions.values()];
      for (const s of open) s.relay.close('SERVER_SHUTDOWN', 1001, 'Server shutting down');
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, live.config.limits.shutdownTimeoutMs);
      });
      await Promise.race([Promise.all(open.map((s) => s.relay.done)), deadline]);
      clearTimeout(timer);
      for (const s of sessions.values()) s.relay.terminate();
      for (const socket of sockets) socket.destroy();
      http.plain.closeAllConnections();
      http.secure.closeAllConnections();
      upstream?.close();
      // Replaced sources still held by a session are closed here too (their sessions are gone).
      for (const r of [...retiring]) closeRetired(r);
      await resolver?.close?.();
      await stopped;
      await admin?.close();
      metrics?.close(); // last: sessions ended above are still counted
    },

    async drain(timeoutMs: number): Promise<void> {
      if (shuttingDown || draining) return;
      draining = true;
      // The admin listener stays up: load balancers must see /readyz turn 503 while the sessions finish.
      netServer?.close();
      http.plain.closeIdleConnections();
      http.secure.closeIdleConnections();
      if (sessions.size > 0 && timeoutMs > 0) {
        log.info('draining: no new connections; live sessions may go on', {
          sessions: sessions.size,
          drain_timeout_s: timeoutMs / 1000,
        });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.all([...sessions.values()].map((s) => s.relay.done)),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
        ]);
        clearTimeout(timer);
      }
      await this.close();
    },

    closeSession,
    ready,
    adminAddress: () => admin?.where,

    stopAccepting(): void {
      netServer?.close();
    },

    addresses(): AddressInfo[] {
      const a = netServer?.address();
      return a && typeof a === 'object' ? [a] : [];
    },

    listening(): string {
      const a = netServer?.address();
      if (typeof a === 'string') return `unix:${a}`;
      if (!a) return live.config.listen.kind === 'inetd' ? 'inetd (fd 0)' : 'not listening';
      return hostPort(a.address, a.port);
    },

    certificate: () => cert,

    reloadTls,

    sessions(): SessionSnapshot[] {
      return [...sessions.values()].map((s) => ({
        id: s.id,
        remoteAddress: s.conn.remoteAddress,
        scheme: s.scheme,
        target: s.target,
        startedAt: new Date(s.startedAt).toISOString(),
        ...s.relay.stats(),
      }));
    },

    stats(): ServerStats {
      return { openConnections: gate.open, activeSessions: sessions.size, refused: { ...gate.refused } };
    },
  };
}

/** Whether TLS clients are asked for a certificate (`--verify-client optional|required`). */
function wantsClientCert(config: Config): boolean {
  return config.tls.clientCert !== undefined && config.tls.clientCert.mode !== 'off';
}
