/**
 * The plugin interface for choosing where a session goes (docs/architecture.md §4). The client never names a host: a
 * resolver maps what the request carries (later a token) to a target.
 */
import type { Target } from '../config/types.js';
import type { Logger } from '../log.js';
import { hostPort } from '../net/address.js';

export type { Target } from '../config/types.js';

/** Facts about the request a resolver may use. Never a header a client could forge as identity. */
export interface RequestContext {
  readonly remoteAddress: string;
  readonly scheme: 'ws' | 'wss';
  readonly host: string | undefined;
  readonly path: string;
}

/** What a resolver answers. A source that is down throws a `ProxyError` instead. */
export type Resolution = { kind: 'found'; target: Target } | { kind: 'unknown' };

/** Chooses the target of a session. Built once at start; may hold pools, caches or a service of its own. */
export interface TargetResolver {
  readonly name: string;
  /** Whether requests must carry a token (a request without one is answered 401). */
  readonly usesToken?: boolean;
  resolve(token: string | undefined, ctx: RequestContext): Promise<Resolution>;
  close?(): Promise<void>;
  /**
   * Optional change notification: calls `onChange` after the source changed (a token file was edited), so the
   * server can re-check live sessions at once (revocation, websockify#229). `tokens`, when given, are the only tokens
   * that changed (e.g. Redis keyspace notifications); without it, every live session is re-checked. Returns the
   * unsubscribe function.
   */
  watch?(onChange: (tokens?: readonly string[]) => void): () => void;
  /**
   * Optional: a session count shared with other processes using the same source (a fleet on one Redis), used for
   * `maxSessionsPerToken` instead of the in-process count.
   */
  readonly sessionCounter?: SharedSessionCounter;
  /**
   * Optional: whether the source can answer right now, for the admin listener's `/readyz` (e.g. Redis connected).
   * Must be cheap and must not throw; `detail` is for operators and never holds a secret. Without it, a source is
   * taken as ready.
   */
  health?(): Promise<SourceHealth>;
}

/** A per-token live-session count shared by a fleet (see {@link TargetResolver.sessionCounter}). */
export interface SharedSessionCounter {
  /**
   * Takes a slot for the token (by hash) if fewer than `limit` are taken: the release function (call it once when the
   * session ends), or undefined at the cap. Throws a `ProxyError` `TOKEN_SOURCE_DOWN` when the count is unreachable.
   */
  acquire(tokenHash: string, limit: number): Promise<(() => void) | undefined>;
  /**
   * The name a token's count goes by in the shared store, the same on every node (keyed by what every node of the
   * fleet shares; each node's own `token_hash` key may differ). Without it, `token_hash` is used.
   */
  readonly nameOf?: (token: string) => string;
}

/** What {@link TargetResolver.health} answers. */
export interface SourceHealth {
  readonly ok: boolean;
  readonly detail?: string;
}

/** Formats a target for logs and pages. */
export function describeTarget(target: Target): string {
  if (target.kind === 'unix') return `unix:${target.path}`;
  return hostPort(target.host, target.port);
}

/** Plugin settings besides the source (only JWTTokenApi reads them). */
export interface TokenPluginOptions {
  readonly jwtAudience?: string | undefined;
  readonly jwtIssuer?: string | undefined;
  readonly jwtAllowNoExp?: boolean | undefined;
}

/** What a token plugin is built with besides its source. */
export interface TokenPluginDeps extends TokenPluginOptions {
  readonly log: Logger;
}

/**
 * One built-in token plugin (`tokenPlugin` NAME`): its names, the check of its `tokenSource`, and its factory.
 * `TOKEN_PLUGINS` in registry.ts lists them; config validates with it and the registry creates with it.
 */
export interface TokenPlugin {
  /** The canonical (websockify class) name. */
  readonly name: string;
  /** Other accepted spellings (websockify's dotted `websockify.token_plugins.X`); the class part ignores case. */
  readonly aliases: readonly string[];
  /** Checks `tokenSource` at start (throws a one-line ConfigError); answers the source `create` takes. */
  parseSource(text: string, ctx: { readonly cwd: string }): string;
  create(source: string, deps: TokenPluginDeps): TargetResolver;
}
