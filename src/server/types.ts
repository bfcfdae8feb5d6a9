/** The library's view of a server: the options of `createServer` and the object it returns. */
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { ReadyReport } from '../admin/server.js';
import type { CloseInfo } from '../relay/relay.js';
import type { ReloadResult } from '../reload.js';
import type { LoadedCertificate } from '../tls/context.js';
import type { SessionSnapshot } from './sessions.js';

/** Options for {@link createServer} besides the config. */
export interface ServerDeps {
  readonly logger?: Logger;
  /** Package version shown on the built-in page. */
  readonly version?: string;
  /** Told when a session starts relaying (the lifetime rules in process/lifetime.ts use it). */
  readonly onSessionOpen?: () => void;
  /** Told when a session has ended. */
  readonly onSessionClosed?: (info: CloseInfo) => void;
  /** Where `traffic` characters go (process/serve.ts passes standard output). */
  readonly trafficSink?: (chars: string) => void;
  /**
   * Reads the configuration again for a reload (process/config-source.ts: the original flags and environment with the `config`
   * file read anew). Throws `ReloadError` (or `ConfigError`). Without it a reload re-applies the running
   * configuration, which still re-reads the files it names (certificates, token files).
   */
  readonly readConfig?: () => Config;
  /** The config file a reload reads, named in its log lines. */
  readonly configFile?: string | undefined;
  /** Told the configuration each applied reload put in effect (process/ sets the log level and format from it). */
  readonly onReload?: (applied: Config) => void;
}

/** Options for {@link WsProxyServer.reload}. */
export interface ReloadOptions {
  /** The configuration to apply instead of reading it through `ServerDeps.readConfig`. */
  readonly next?: Config;
  /** Log the outcome at debug level (a `workers` primary logs one line for all workers instead). */
  readonly quiet?: boolean;
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
