/**
 * The runtime snapshot: everything a reload may replace, as one immutable value. The server holds one reference to
 * the current snapshot and hands it to each connection and handshake as an argument; a reload builds the next one and
 * swaps the reference, so no stage ever sees half of a reload.
 */
import { realpathSync } from 'node:fs';
import type { WebSocketServer } from 'ws';
import { defaultMaxBufferedTotal } from '../config/limits.js';
import type { AuthConfig, Config } from '../config/types.js';
import { createAuthenticator, customAuthenticator } from '../auth/registry.js';
import type { Authenticator } from '../auth/types.js';
import type { Logger } from '../log.js';
import { webSecrets, type WebSecrets } from '../http/web-secrets.js';
import { Recorder } from '../record/recorder.js';
import type { TargetTlsOptions } from '../relay/connect.js';
import type { TargetResolver } from '../targets/types.js';
import { profileOptions } from '../tls/context.js';
import { certificateFile, type TlsInputs } from '../tls/upkeep.js';
import { createRequestPolicy, type RequestPolicy } from '../policy/request-policy.js';
import { hostModeOf, machineHostNames } from '../policy/host-allowlist.js';

/** What a reload may replace. Every field is fixed for the snapshot's life. */
export interface Runtime {
  readonly config: Config;
  /** The certificate file actually loaded (the generated one when no `cert` was given and there is no self.pem). */
  readonly certFile: string;
  readonly tlsProfile: ReturnType<typeof profileOptions>;
  readonly webRootReal: string | undefined;
  /** What `web` never serves (configured secrets, private keys). */
  readonly webSecrets: WebSecrets | undefined;
  readonly authenticator: Authenticator | undefined;
  readonly recorder: Recorder | undefined;
  readonly policy: RequestPolicy;
  readonly wss: WebSocketServer;
  readonly targetTls: TargetTlsOptions | undefined;
  /** The token source (or fixed/demo resolver); undefined until `listen()` built it. */
  readonly resolver: TargetResolver | undefined;
  /** `traffic` output, when the configuration turns it on. */
  readonly trafficSink: ((chars: string) => void) | undefined;
}

/** A snapshot of a listening server: its token source exists. */
export type ServingRuntime = Runtime & { readonly resolver: TargetResolver };

/** Whether the snapshot has its token source (a handshake needs one). */
export function isServing(runtime: Runtime): runtime is ServingRuntime {
  return runtime.resolver !== undefined;
}

/** What loading the certificate reads from a snapshot. */
export function tlsInputsOf(runtime: Runtime): TlsInputs {
  return { tls: runtime.config.tls, certFile: runtime.certFile, profile: runtime.tlsProfile };
}

/** The parts of a snapshot that are loaded (and may fail) before it is built. */
export interface LoadedParts {
  readonly webRootReal: string | undefined;
  readonly authenticator: Authenticator | undefined;
  readonly targetTls: TargetTlsOptions | undefined;
  readonly resolver: TargetResolver | undefined;
}

/** What building a snapshot needs from the server, the same for its whole life. */
export interface RuntimeTools {
  readonly log: Logger;
  /** Where `traffic` characters go, if the embedder gave a sink. */
  readonly trafficSink: ((chars: string) => void) | undefined;
  /** The names of the certificate in use (the automatic Host list follows it, also across TLS reloads). */
  readonly certNames: () => readonly string[];
  /** A WebSocket server for `maxPayload` (a new one only when the limit changes). */
  readonly makeWss: (maxPayload: number) => WebSocketServer;
}

/** `web`'s real path; throws what realpath throws (a missing folder). */
export function webRootOf(config: Config): string | undefined {
  return config.webRoot === undefined ? undefined : realpathSync(config.webRoot);
}

/**
 * Builds the snapshot for `config` from its loaded parts. Given the `running` one, it keeps what did not change (the
 * recorder, the WebSocket server) and carries the policy's counters (rate limits, failure buckets) over.
 */
export function buildRuntime(config: Config, loaded: LoadedParts, tools: RuntimeTools, running?: Runtime): Runtime {
  const maxMessageBytes = config.limits.maxMessageBytes;
  const sameMessages = running !== undefined && maxMessageBytes === running.config.limits.maxMessageBytes;
  const keepRecorder = sameMessages && config.recordPrefix === running.config.recordPrefix;
  return {
    config,
    certFile: certificateFile(config),
    tlsProfile: profileOptions(config.tls.options),
    webRootReal: loaded.webRootReal,
    webSecrets: loaded.webRootReal === undefined ? undefined : webSecrets(config),
    authenticator: loaded.authenticator,
    recorder: keepRecorder
      ? running.recorder
      : config.recordPrefix === undefined
        ? undefined
        : new Recorder(config.recordPrefix, tools.log, maxMessageBytes),
    policy: createRequestPolicy(
      config.clientAddress,
      config.policy,
      Date.now,
      running?.policy,
      hostModeOf(config, tools.certNames, machineHostNames()),
    ),
    wss: sameMessages ? running.wss : tools.makeWss(maxMessageBytes),
    targetTls: loaded.targetTls,
    resolver: loaded.resolver,
    trafficSink: config.traffic ? tools.trafficSink : undefined,
  };
}

/** The auth plugin for `auth`; a plugin module (`authPlugin` ./x.js) is imported by `load`, its wrapper exists now. */
export function buildAuth(
  auth: AuthConfig | undefined,
  log: Logger,
): { authenticator: Authenticator | undefined; load?: () => Promise<void> } {
  if (auth === undefined) return { authenticator: undefined };
  if (auth.custom === true) {
    const custom = customAuthenticator(auth.plugin, auth.source, log);
    return { authenticator: custom.authenticator, load: () => custom.load() };
  }
  return { authenticator: createAuthenticator(auth.plugin, auth.source) };
}

/** The bound on unfinished client messages of all sessions (`maxBufferedTotal`, else derived from the message cap). */
export function budgetLimit(config: Config): number {
  return config.limits.maxBufferedTotal ?? defaultMaxBufferedTotal(config.limits.maxMessageBytes);
}

/** Whether TLS clients are asked for a certificate (`verifyClient` optional|required`). */
export function wantsClientCert(config: Config): boolean {
  return config.tls.clientCert !== undefined && config.tls.clientCert.mode !== 'off';
}
