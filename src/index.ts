/**
 * wsproxy as a library: build a `Config` (or use `resolveConfig` on command-line style values), then
 * `createServer(config, { logger }).listen()`. Nothing here reads argv, exits the process or installs signal handlers.
 */
export { createServer } from './server/index.js';
export type { ReloadOptions, ServerDeps, ServerStats, SessionSnapshot, WsProxyServer } from './server/index.js';
export type { ReloadResult } from './reload.js';
export { resolveConfig } from './config/index.js';
export { DEFAULTS } from './config/options/index.js';
export type { CliArgs } from './config/options/index.js';
export type { Config, Limits, ListenAddress, Target, TargetSource, TlsConfig } from './config/types.js';
export type { ClientCertConfig, TlsOptionsConfig, VerifyClientMode } from './config/types.js';
export type { PeerIdentity } from './tls/peer.js';
export type { AuthContext, AuthDecision, Authenticator } from './auth/types.js';
export { ConfigError, ProxyError, REASONS, RELOAD_REASONS, ReloadError } from './errors.js';
export type { ReasonCode, ReloadReason } from './errors.js';
export { createLogger, silentLogger } from './log.js';
export type { LogFields, Logger, LoggerOptions, LogLevel, RootLogger } from './log.js';
export type { RequestContext, Resolution, TargetResolver } from './targets/types.js';
export type { PluginOptions } from './plugin-loader.js';
export type { CloseInfo, RelayTap } from './relay/relay.js';
