/**
 * `JWTTokenApi`: the token is itself a signed JWT carrying the target (`{"host": …, "port": …}`), or a JWE whose
 * plaintext is such a JWT. `tokenSource` is the key file: a PEM public key (RS*, PS*, ES*, EdDSA), a PEM private
 * key (its public half verifies; it also decrypts JWE), or any other bytes as a shared secret (HS*, and `dir`/A*KW for
 * JWE). `exp` is required (a token without one would be valid forever) unless `allowNoExp`; `exp` and `nbf` are
 * enforced (jose), `aud`/`iss` when configured. A bad token is "unknown" (404); the reason
 * is logged, never the token. The key file is re-read when it changes.
 */
import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { compactDecrypt, jwtVerify } from 'jose';
import type { Logger } from '../log.js';
import { hostPort } from '../net/address.js';
import { parseTargetValue } from './token-line.js';
import { existingSource, websockifyAlias } from './source-checks.js';
import type { Resolution, Target, TargetResolver, TokenPlugin } from './types.js';

/** Claims checks beyond exp/nbf. */
export interface JwtOptions {
  readonly audience?: string | undefined;
  readonly issuer?: string | undefined;
  /** `tokenJwtAllowNoExp`: accept tokens without `exp` (websockify's behaviour). */
  readonly allowNoExp?: boolean | undefined;
  readonly log: Logger;
}

interface Keys {
  readonly verify: KeyObject;
  readonly decrypt: KeyObject | undefined;
  readonly algorithms: string[];
}

/** Reads the key file into verify/decrypt keys and the algorithms they may be used with. Throws a one-line error. */
export function loadJwtKeys(file: string): Keys {
  const bytes = readFileSync(file);
  const text = bytes.toString('utf8');
  if (text.includes('-----BEGIN')) {
    const isPrivate = /-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(text);
    const priv = isPrivate ? createPrivateKey(text) : undefined;
    const pub = priv ? createPublicKey(priv) : createPublicKey(text);
    const type = pub.asymmetricKeyType;
    const algorithms =
      type === 'rsa'
        ? ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
        : type === 'rsa-pss'
          ? ['PS256', 'PS384', 'PS512']
          : type === 'ec'
            ? ['ES256', 'ES384', 'ES512']
            : type === 'ed25519' || type === 'ed448'
              ? ['EdDSA', 'Ed25519']
              : [];
    if (algorithms.length === 0) throw new Error(`${file}: unsupported key type ${type ?? 'unknown'}`);
    return { verify: pub, decrypt: priv, algorithms };
  }
  // A shared secret: the file's bytes as they are (websockify's "oct" key), without a trailing newline.
  const secret = createSecretKey(Buffer.from(text.replace(/\r?\n$/, ''), 'utf8'));
  return { verify: secret, decrypt: secret, algorithms: ['HS256', 'HS384', 'HS512'] };
}

function targetOf(payload: Record<string, unknown>): Target | string {
  const { host, port } = payload;
  if (typeof host !== 'string' || host === '') return "no 'host' claim";
  if (typeof port !== 'number' && typeof port !== 'string') return "no 'port' claim";
  return parseTargetValue(hostPort(host, port));
}

/** Builds the resolver on the key file `file`. */
export function jwtResolver(file: string, options: JwtOptions): TargetResolver {
  let keys = loadJwtKeys(file);
  let mtime = statSync(file).mtimeMs;
  let checkedAt = Date.now();
  const unknown: Resolution = { kind: 'unknown' };
  const refreshKeys = (): void => {
    if (Date.now() - checkedAt < 1_000) return;
    checkedAt = Date.now();
    try {
      const m = statSync(file).mtimeMs;
      if (m === mtime) return;
      keys = loadJwtKeys(file);
      mtime = m;
      options.log.info('JWT key reloaded', { file });
    } catch (err) {
      options.log.warn('JWT key file unreadable; keeping the previous key', { file, error: (err as Error).message });
    }
  };
  return {
    name: 'JWTTokenApi',
    usesToken: true,
    async resolve(token: string | undefined): Promise<Resolution> {
      if (token === undefined) return unknown;
      refreshKeys();
      try {
        let jws = token;
        if (token.split('.').length === 5) {
          if (!keys.decrypt) throw new Error('a JWE token needs a private or shared key file');
          const { plaintext } = await compactDecrypt(token, keys.decrypt);
          jws = new TextDecoder().decode(plaintext);
        }
        const { payload } = await jwtVerify(jws, keys.verify, {
          algorithms: keys.algorithms,
          ...(options.audience === undefined ? {} : { audience: options.audience }),
          ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
          ...(options.allowNoExp === true ? {} : { requiredClaims: ['exp'] }),
        });
        const target = targetOf(payload);
        if (typeof target === 'string') {
          options.log.info('JWT accepted but holds no usable target', { problem: target });
          return unknown;
        }
        return { kind: 'found', target };
      } catch (err) {
        options.log.info('JWT refused', { problem: refusalProblem(err) });
        return unknown;
      }
    },
  };
}

/** Why jose refused a token, for the log: its code, and for a claim check which claim (e.g. `exp claim missing`). */
function refusalProblem(err: unknown): string {
  const e = err as { code?: string; claim?: string; reason?: string; message?: string };
  if (e.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && typeof e.claim === 'string')
    return `${e.claim} claim ${e.reason ?? 'invalid'}`;
  return e.code ?? e.message ?? 'invalid';
}

/** `JWTTokenApi`: the source is the key file (or directory); the claims checks come from the `tokenJwt*` options. */
export const jwtTokenApiPlugin: TokenPlugin = {
  name: 'JWTTokenApi',
  aliases: [websockifyAlias('JWTTokenApi')],
  parseSource: (text, ctx) => existingSource(text, ctx.cwd, false),
  create: (source, deps) =>
    jwtResolver(source, {
      audience: deps.jwtAudience,
      issuer: deps.jwtIssuer,
      allowNoExp: deps.jwtAllowNoExp,
      log: deps.log,
    }),
};
