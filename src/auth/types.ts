/** The plugin interface for authorising a WebSocket upgrade (docs/architecture.md §4). */
import type { Target } from '../config/types.js';
import type { PeerIdentity } from '../tls/peer.js';

/** Typed facts an authenticator may use: never a header standing in for an identity the TLS layer owns. */
export interface AuthContext {
  readonly remoteAddress: string;
  readonly scheme: 'ws' | 'wss' | 'http' | 'https';
  readonly host: string | undefined;
  readonly origin: string | undefined;
  /** The `Authorization` header, if any (secret: never log it). */
  readonly authorization: string | undefined;
  readonly path: string;
  /** The resolved target (undefined for page requests under `webAuth`). */
  readonly target: Target | undefined;
  /** The TLS client certificate as verified at the handshake (undefined on plain connections or with client certs off). */
  readonly peer?: PeerIdentity | undefined;
}

/** What an authenticator answers. */
export type AuthDecision =
  | { kind: 'allow'; identity?: string }
  | { kind: 'deny'; status: 401 | 403; reason: string; headers?: Readonly<Record<string, string>> };

/** Decides whether a request may proceed. Built once at start. */
export interface Authenticator {
  readonly name: string;
  check(ctx: AuthContext): Promise<AuthDecision>;
}

/** What an auth plugin's source check may use besides the text. */
export interface AuthSourceContext {
  /** Whether TLS client certificates are verified (`verifyClient` is not off). */
  readonly clientCerts: boolean;
}

/**
 * One built-in auth plugin (`authPlugin` NAME`): its names, the check of its `authSource`, and its factory.
 * `AUTH_PLUGINS` in registry.ts lists them; config validates with it and the registry creates with it.
 */
export interface AuthPlugin {
  /** The canonical (websockify class) name. */
  readonly name: string;
  /** Other accepted spellings (websockify's dotted `websockify.auth_plugins.X`); the class part ignores case. */
  readonly aliases: readonly string[];
  /** Checks `authSource` at start (throws a one-line ConfigError); answers the source `create` takes. */
  parseSource(text: string, ctx: AuthSourceContext): string;
  create(source: string): Authenticator;
}
