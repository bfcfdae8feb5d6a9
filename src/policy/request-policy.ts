/**
 * The limits-and-policy stage as one object built once from the config and consulted by the HTTP and upgrade stages:
 * the real client address of a request (`trustForwarded`), the `Host` allowlist (421) and handshake rate limit
 * (429) before anything else, the per-token session cap (429), and how the target is dialled (address policy after
 * DNS, PROXY header towards the target). Refusals are returned as reason codes; the caller answers through
 * `http/reject.ts`, so each has its status, log line and `X-Wsproxy-Reason`.
 */
import type { IncomingMessage } from 'node:http';
import type { ClientAddressConfig, PolicyConfig, Target } from '../config/types.js';
import type { ConnectionContext } from '../context.js';
import type { HttpReasonCode } from '../errors.js';
import type { DialOptions } from '../relay/connect.js';
import { clientKey, hostPort } from '../net/address.js';
import { proxyHeaderV1, proxyHeaderV2 } from '../net/proxy-protocol.js';
import { clientFromHeaders } from './forwarded.js';
import { isHostAllowedBy, type HostMode } from './host-allowlist.js';
import { RateLimiter, SessionCounter, type Rate } from './rate-limit.js';
import { checkTargetAddress } from './target-policy.js';
import type { SharedSessionCounter } from '../targets/types.js';
import { flag } from '../config/options/index.js';

/** A refusal for `reject()`. */
export interface Refusal {
  readonly code: HttpReasonCode;
  readonly message?: string;
  readonly headers?: Record<string, string>;
  readonly fields?: Record<string, string>;
}

/** What the HTTP and upgrade stages ask. */
export interface RequestPolicy {
  /** The connection as this request sees it: with the client from `Forwarded`/`X-Forwarded-For` when trusted. */
  requestConn(conn: ConnectionContext, req: IncomingMessage): ConnectionContext;
  /** Host allowlist, for every request (pages and upgrades). */
  checkHost(req: IncomingMessage): Refusal | undefined;
  /** Host allowlist and handshake rate limit, first thing in the upgrade pipeline. */
  preflight(req: IncomingMessage, conn: ConnectionContext): Refusal | undefined;
  /**
   * Reserves a live-session slot for a token (by hash); the release function, or a refusal at the cap. With `shared`
   * (the resolver's fleet-wide count, e.g. TokenRedis) the count is the fleet's; if that count cannot be reached, the
   * refusal is 503 `TOKEN_SOURCE_DOWN`, as for the lookup itself.
   */
  tokenSlot(
    tokenHash: string,
    shared?: SharedSessionCounter,
  ): Promise<{ ok: true; release: () => void } | { ok: false; refusal: Refusal }>;
  /**
   * The brute-force guard (`authFailureLimit`) for a request whose token or credentials are about to be checked:
   * a 429 refusal while its client address (IPv6 per /64) has failed too often, else an attempt to settle once the
   * check is done. The attempt holds one failure in reserve (so parallel guesses cannot overrun the limit); settling
   * it as not failed gives that back, so successful requests are never counted.
   */
  authAttempt(conn: ConnectionContext): { ok: true; attempt: AuthAttempt } | { ok: false; refusal: Refusal };
  /** How to dial `target` for this connection (its `proxyProtocol` overrides `proxyProtocolOut`). */
  dialOptions(conn: ConnectionContext, target?: Target): DialOptions;
  /** State a policy built on a reload takes over (see {@link createRequestPolicy}'s `previous`). */
  readonly carried: PolicyCarry;
}

/** One token or credential check (see {@link RequestPolicy.authAttempt}); settle it once, when the answer is known. */
export interface AuthAttempt {
  settle(failed: boolean): void;
}

const NO_ATTEMPT: AuthAttempt = { settle: () => undefined };

/**
 * What outlives a policy rebuilt on a reload: the per-token live-session counts (sessions admitted under the old
 * policy still hold their slots, so a lowered cap counts them) and the `rateLimit` buckets while the rate is the same.
 */
export interface PolicyCarry {
  readonly sessions: SessionCounter;
  readonly rate: Rate | undefined;
  readonly limiter: RateLimiter | undefined;
  readonly authRate?: Rate | undefined;
  readonly authLimiter?: RateLimiter | undefined;
}

/** The limiter for `rate`: the running one while the rate is unchanged (its buckets stay), else a new one. */
function keepLimiter(
  oldRate: Rate | undefined,
  old: RateLimiter | undefined,
  rate: Rate | undefined,
): RateLimiter | undefined {
  if (!rate) return undefined;
  return old && oldRate?.perSecond === rate.perSecond && oldRate.burst === rate.burst ? old : new RateLimiter(rate);
}

const NO_CLIENT_ADDRESS: ClientAddressConfig = {
  proxyProtocolIn: false,
  trustedProxies: [],
  trustForwarded: false,
  proxyProtocolOut: undefined,
};
const NO_POLICY: PolicyConfig = {
  maxSessionsPerToken: 0,
  rateLimit: undefined,
  allowTargets: [],
  allowedHosts: [],
  revalidateIntervalMs: 0,
};

/**
 * Builds the policy; `now` is the clock for the rate limiter (tests pass their own). `previous`, on a reload, is the
 * policy this one replaces: its session counts carry over, and its `rateLimit` buckets while the rate is unchanged.
 * `hosts` is how Host headers are judged (server/runtime.ts passes `hostModeOf`); without it, only `allowedHost` names.
 */
export function createRequestPolicy(
  clientAddress: ClientAddressConfig = NO_CLIENT_ADDRESS,
  policy: PolicyConfig = NO_POLICY,
  now: () => number = Date.now,
  previous?: RequestPolicy,
  hosts?: HostMode,
): RequestPolicy {
  const old = previous?.carried;
  const limiter = keepLimiter(old?.rate, old?.limiter, policy.rateLimit);
  const authLimiter = keepLimiter(old?.authRate, old?.authLimiter, policy.authFailureLimit);
  // Counted even without a cap, so that a cap set by a later reload sees the sessions already running.
  const sessions = old?.sessions ?? new SessionCounter();
  const checkHost = hostCheck(hosts ?? listedHosts(policy.allowedHosts));
  return {
    requestConn: (conn, req) => (clientAddress.trustForwarded ? forwardedConn(conn, req, clientAddress) : conn),
    checkHost,
    preflight: (req, conn) => checkHost(req) ?? rateRefusal(limiter, conn, now),
    tokenSlot: (tokenHash, shared) => takeTokenSlot(sessions, policy.maxSessionsPerToken, tokenHash, shared),
    authAttempt: (conn) => startAuthAttempt(authLimiter, conn, now),
    carried: { sessions, rate: policy.rateLimit, limiter, authRate: policy.authFailureLimit, authLimiter },
    dialOptions: (conn, target) => dialOptionsFor(conn, target, clientAddress, policy),
  };
}

/** Host judging from the `allowedHost` names alone: none or `any` lets every name through. */
function listedHosts(allowedHosts: readonly string[]): HostMode {
  return allowedHosts.length === 0 || allowedHosts.includes('any')
    ? { kind: 'any' }
    : { kind: 'list', names: allowedHosts };
}

/**
 * The Host allowlist check. No Host at all is a malformed request (HTTP/1.1, WebSocket), answered 400 by its own
 * check; HTTP/1.0 without Host is no browser, so no DNS rebinding either.
 */
function hostCheck(hostMode: HostMode): (req: IncomingMessage) => Refusal | undefined {
  return (req) =>
    req.headers.host === undefined || isHostAllowedBy(req.headers.host, hostMode)
      ? undefined
      : {
          code: 'HOST_NOT_ALLOWED',
          message: `This server does not serve that host name; its operator can allow it with ${flag('allowedHost')} NAME.`,
          fields: { host: req.headers.host ?? '' },
        };
}

/** The connection with the client a trusted proxy named in `Forwarded`/`X-Forwarded-For`, if one did. */
function forwardedConn(
  conn: ConnectionContext,
  req: IncomingMessage,
  clientAddress: ClientAddressConfig,
): ConnectionContext {
  const peer = { address: conn.remoteAddress, port: conn.remotePort };
  const client = clientFromHeaders(
    peer,
    { forwarded: req.headersDistinct['forwarded'], xForwardedFor: req.headersDistinct['x-forwarded-for'] },
    clientAddress.trustedProxies,
  );
  if (client === peer) return conn;
  const shown = hostPort(client.address, client.port);
  return {
    ...conn,
    remoteAddress: client.address,
    remotePort: client.port,
    log: conn.log.child({ client: shown, via: 'forwarded' }),
  };
}

/** The handshake rate limit: 429 while this client (IPv6 per /64) is over it. Unix-socket clients are not limited. */
function rateRefusal(
  limiter: RateLimiter | undefined,
  conn: ConnectionContext,
  now: () => number,
): Refusal | undefined {
  if (!limiter || conn.remoteAddress === 'unix') return undefined;
  const taken = limiter.take(clientKey(conn.remoteAddress), now());
  if (taken.ok) return undefined;
  return {
    code: 'RATE_LIMITED',
    headers: { 'Retry-After': String(taken.retryAfterSeconds) },
    fields: { retry_after: String(taken.retryAfterSeconds) },
  };
}

type TokenSlot = { ok: true; release: () => void } | { ok: false; refusal: Refusal };

/** One live-session slot for a token, from the fleet's count when `shared`, else this process's (see `tokenSlot`). */
async function takeTokenSlot(
  sessions: SessionCounter,
  cap: number,
  tokenHash: string,
  shared: SharedSessionCounter | undefined,
): Promise<TokenSlot> {
  if (cap <= 0) return { ok: true, release: sessions.acquire(tokenHash, Infinity) ?? (() => {}) };
  const atCap = { ok: false, refusal: { code: 'TOKEN_SESSION_LIMIT', fields: { limit: String(cap) } } } as const;
  if (shared) {
    try {
      const release = await shared.acquire(tokenHash, cap);
      return release ? { ok: true, release } : atCap;
    } catch (err) {
      // Fail closed: without the fleet's count the cap would not hold (OSSN-0008); the lookup answers 503 too.
      return { ok: false, refusal: { code: 'TOKEN_SOURCE_DOWN', fields: { detail: (err as Error).message } } };
    }
  }
  const release = sessions.acquire(tokenHash, cap);
  return release ? { ok: true, release } : atCap;
}

/** The brute-force guard for one check (see `authAttempt`): a failure reserved now, given back if it succeeds. */
function startAuthAttempt(
  authLimiter: RateLimiter | undefined,
  conn: ConnectionContext,
  now: () => number,
): { ok: true; attempt: AuthAttempt } | { ok: false; refusal: Refusal } {
  if (!authLimiter || conn.remoteAddress === 'unix') return { ok: true, attempt: NO_ATTEMPT };
  const key = clientKey(conn.remoteAddress);
  const taken = authLimiter.take(key, now());
  if (!taken.ok) {
    const retry = String(taken.retryAfterSeconds);
    return {
      ok: false,
      refusal: { code: 'AUTH_RATE_LIMITED', headers: { 'Retry-After': retry }, fields: { retry_after: retry } },
    };
  }
  let settled = false;
  const attempt = {
    settle(failed: boolean) {
      if (settled) return;
      settled = true;
      if (!failed) authLimiter.refund(key, now());
    },
  };
  return { ok: true, attempt };
}

/** How to dial `target`: the address policy after DNS, and the PROXY header the target gets (if any). */
function dialOptionsFor(
  conn: ConnectionContext,
  target: Target | undefined,
  clientAddress: ClientAddressConfig,
  policy: PolicyConfig,
): DialOptions {
  const wanted = target?.proxyProtocol ?? clientAddress.proxyProtocolOut;
  const out = wanted === 'none' ? undefined : wanted;
  const hasIp = conn.remoteAddress !== 'unix';
  const src = hasIp ? { address: conn.remoteAddress, port: conn.remotePort } : undefined;
  const dst = conn.localAddress === undefined ? undefined : { address: conn.localAddress, port: conn.localPort ?? 0 };
  return {
    checkAddress: (address, port) => {
      const d = checkTargetAddress(address, port, policy.allowTargets);
      return d.ok ? undefined : d.why;
    },
    preamble: out === 'v1' ? proxyHeaderV1(src, dst) : out === 'v2' ? proxyHeaderV2(src, dst) : undefined,
  };
}
