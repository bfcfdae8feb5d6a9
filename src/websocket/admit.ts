/**
 * The upgrade steps that choose and reach the target: token → target (404/503) → auth plugin (401/403) → the
 * `runOnce` claim and the per-token session slot (503/429) → dial the target (403/502/504). Each returns undefined
 * once it has answered the client (or the client has gone).
 */
import type { Socket } from 'node:net';
import { AbortedError, ProxyError, REASONS } from '../errors.js';
import { reject } from '../http/reject.js';
import { connectTarget } from '../relay/connect.js';
import { extractToken, tokenHash } from '../targets/token.js';
import type { RequestContext, Target } from '../targets/types.js';
import type { Admitted, Handshake, UpgradeDeps } from './handshake.js';

/** Where this proxy expects the token, for the TOKEN_MISSING answer. */
function tokenHint(h: Handshake): string {
  const targets = h.runtime.config.targets;
  if (targets.kind === 'token' && targets.from === 'host') return 'in the Host name';
  if (targets.kind === 'token' && targets.from === 'path') return 'as the last path segment';
  return 'as ?token=TOKEN in the WebSocket URL';
}

/** The request's token when the source uses one: `{ token }`, or undefined after a 401 TOKEN_MISSING. */
export function readToken(h: Handshake): { token: string | undefined } | undefined {
  if (!h.runtime.resolver.usesToken) return { token: undefined };
  const { req } = h;
  const token = extractToken(req.url ?? '/', req.headers.host, h.tokenFrom);
  if (token === undefined) {
    reject(h.socket, 'TOKEN_MISSING', {
      message: `This proxy needs a token: pass it ${tokenHint(h)}.`,
      log: h.log,
      fields: h.fields,
    });
    return undefined;
  }
  h.fields.token_hash = tokenHash(token);
  return { token };
}

/** The auth plugin's verdict on the target (after the token: a plugin may decide per target, websockify's order). */
async function authorised(h: Handshake, target: Target): Promise<boolean> {
  const { req, conn, runtime } = h;
  const authenticator = runtime.authenticator;
  if (!authenticator) return true;
  const decision = await authenticator.check({
    remoteAddress: conn.remoteAddress,
    scheme: h.scheme,
    host: req.headers.host,
    origin: req.headers.origin,
    authorization: req.headers.authorization,
    path: req.url ?? '/',
    target,
    peer: conn.peer,
  });
  if (decision.kind === 'allow') {
    if (decision.identity !== undefined) h.fields.identity = decision.identity;
    return true;
  }
  // A 401 to a request that sent no credentials is the usual first step of a login, not a guess.
  h.slot.authFailed = decision.status !== 401 || req.headers.authorization !== undefined;
  if (h.abort.signal.aborted) return false;
  const code = decision.status === 401 ? 'AUTH_REQUIRED' : 'AUTH_FORBIDDEN';
  reject(h.socket, code, {
    message: `${REASONS[code].text} (${decision.reason})`,
    log: h.log,
    fields: { ...h.fields, plugin: authenticator.name },
    ...(decision.headers ? { headers: decision.headers } : {}),
  });
  return false;
}

/** The `runOnce` claim and the per-token session slot, held in `h.slot` until the session (or handshake) ends. */
async function claimSlots(h: Handshake, deps: UpgradeDeps, token: string | undefined): Promise<boolean> {
  // Claimed only now: a client that the checks before refuse never holds the one session.
  if (deps.singleSession) {
    if (!deps.singleSession.claim()) {
      reject(h.socket, 'RUN_ONCE_BUSY', { log: h.log, fields: h.fields });
      return false;
    }
    h.slot.single = true;
  }
  const { policy, resolver } = h.runtime;
  if (token === undefined || !policy) return true;
  const taken = await policy.tokenSlot(
    resolver.sessionCounter?.nameOf?.(token) ?? tokenHash(token),
    resolver.sessionCounter,
  );
  if (h.abort.signal.aborted) {
    if (taken.ok) taken.release();
    return false;
  }
  if (!taken.ok) {
    reject(h.socket, taken.refusal.code, { log: h.log, fields: { ...h.fields, ...taken.refusal.fields } });
    return false;
  }
  h.slot.release = taken.release;
  return true;
}

/** Resolves the token to a target, asks the auth plugin and takes the slots; undefined once answered. */
export async function admit(h: Handshake, deps: UpgradeDeps, token: string | undefined): Promise<Admitted | undefined> {
  const { req, conn } = h;
  const ctx: RequestContext = {
    remoteAddress: conn.remoteAddress,
    scheme: h.scheme,
    host: req.headers.host,
    path: req.url ?? '/',
  };
  const resolution = await h.runtime.resolver.resolve(token, ctx);
  if (resolution.kind !== 'found') {
    if (token === undefined)
      reject(h.socket, 'NOT_FOUND', { message: 'No target for this request.', log: h.log, fields: h.fields });
    else {
      h.slot.authFailed = true;
      reject(h.socket, 'TOKEN_UNKNOWN', { log: h.log, fields: h.fields });
    }
    return undefined;
  }
  if (!(await authorised(h, resolution.target))) return undefined;
  if (h.abort.signal.aborted) return undefined;
  if (!(await claimSlots(h, deps, token))) return undefined;
  // Only a token can be revoked (the revalidator skips sessions without one): nothing is kept for the others.
  const resolved = token === undefined ? undefined : { token, target: resolution.target, ctx };
  return { target: resolution.target, token, resolved };
}

/** Connects the target; whatever dialling throws becomes a ProxyError (a failed connect), reported to metrics. */
export async function dial(
  h: Handshake,
  deps: UpgradeDeps,
  target: Target,
): Promise<{ socket: Socket; address: string }> {
  const { config, policy, targetTls } = h.runtime;
  const dialStart = performance.now();
  return connectTarget(target, config.limits.connectTimeoutMs, h.abort.signal, {
    ...policy?.dialOptions(h.conn, target),
    tls: targetTls,
    readBytes: config.limits.highWaterMark,
  }).then(
    (d) => (deps.onTargetConnect?.(performance.now() - dialStart, undefined), d),
    (err: unknown) => {
      if (err instanceof AbortedError) throw err;
      const pe =
        err instanceof ProxyError
          ? err
          : new ProxyError('TARGET_FAILED', 'connecting to the target failed', { cause: err });
      deps.onTargetConnect?.(performance.now() - dialStart, pe.code);
      throw pe;
    },
  );
}
