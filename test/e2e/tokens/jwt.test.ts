// JWTTokenApi with real keys: HS256, RS256, ES256, JWE around a JWS, expiry, not-before, wrong keys, aud/iss.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CompactEncrypt, SignJWT } from 'jose';
import { silentLogger } from '../../../src/log.js';
import { jwtResolver } from '../../../src/targets/jwt.js';
import { exchange, openWs, startEchoTarget, startProxy, statusOf, upgradeRequest } from '../../helpers/proxy.js';

const dir = mkdtempSync(join(tmpdir(), 'wsproxy-jwt-'));
const ctx = { remoteAddress: '127.0.0.1', scheme: 'ws' as const, host: undefined, path: '/' };
const now = (): number => Math.floor(Date.now() / 1000);

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

describe('JWTTokenApi', () => {
  const secret = randomBytes(32).toString('hex');
  const secretFile = file('symmetric.key', secret + '\n');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsaPublic = file('rsa-public.pem', rsa.publicKey.export({ type: 'spki', format: 'pem' }));
  const rsaPrivate = file('rsa-private.pem', rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecPublic = file('ec-public.pem', ec.publicKey.export({ type: 'spki', format: 'pem' }));
  const secretKey = new TextEncoder().encode(secret);

  test('HS256, RS256 and ES256 tokens carry the target; exp, nbf and a wrong key make them unknown', async () => {
    const hs = jwtResolver(secretFile, { log: silentLogger });
    const good = await new SignJWT({ host: '192.0.2.5', port: 5900 })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(now() + 60)
      .sign(secretKey);
    assert.deepEqual(await hs.resolve(good, ctx), {
      kind: 'found',
      target: { kind: 'tcp', host: '192.0.2.5', port: 5900 },
    });
    const expired = await new SignJWT({ host: 'h', port: 1 })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(now() - 10)
      .sign(secretKey);
    assert.deepEqual(await hs.resolve(expired, ctx), { kind: 'unknown' });
    const early = await new SignJWT({ host: 'h', port: 1 })
      .setProtectedHeader({ alg: 'HS256' })
      .setNotBefore(now() + 3600)
      .sign(secretKey);
    assert.deepEqual(await hs.resolve(early, ctx), { kind: 'unknown' });
    const otherKey = await new SignJWT({ host: 'h', port: 1 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('another secret of enough length!'));
    assert.deepEqual(await hs.resolve(otherKey, ctx), { kind: 'unknown' });
    assert.deepEqual(await hs.resolve('not.a.jwt', ctx), { kind: 'unknown' });

    const rs = jwtResolver(rsaPublic, { log: silentLogger });
    const rsToken = await new SignJWT({ host: '2001:db8::7', port: '5901' })
      .setProtectedHeader({ alg: 'RS256' })
      .setExpirationTime(now() + 60)
      .sign(rsa.privateKey);
    assert.deepEqual(await rs.resolve(rsToken, ctx), {
      kind: 'found',
      target: { kind: 'tcp', host: '2001:db8::7', port: 5901 },
    });
    // An HS256 token "signed" with the public key's PEM text must not pass (algorithm confusion).
    const confused = await new SignJWT({ host: 'h', port: 1 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString()));
    assert.deepEqual(await rs.resolve(confused, ctx), { kind: 'unknown' });

    const es = jwtResolver(ecPublic, { log: silentLogger });
    const esToken = await new SignJWT({ host: 'h.example', port: 7 })
      .setProtectedHeader({ alg: 'ES256' })
      .setExpirationTime(now() + 60)
      .sign(ec.privateKey);
    assert.equal((await es.resolve(esToken, ctx)).kind, 'found');
    assert.deepEqual(await es.resolve(rsToken, ctx), { kind: 'unknown' }, 'RS256 token against an EC key');
  });

  test('JWE wrapping a JWS: shared key (dir) and RSA private key (RSA-OAEP-256)', async () => {
    const inner = await new SignJWT({ host: 'inner.example', port: 5902 })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(now() + 60)
      .sign(secretKey);
    const hsResolver = jwtResolver(secretFile, { log: silentLogger });
    // Encrypted for a 32-byte key: the 64-byte secret in symmetric.key cannot open it.
    const jweShared = await new CompactEncrypt(new TextEncoder().encode(inner))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .encrypt(new TextEncoder().encode(secret.slice(0, 32)));
    // 'dir' with A256GCM needs a 256-bit key, so this key file holds exactly 32 bytes.
    const key32File = file('key32', secret.slice(0, 32));
    const innerFor32 = await new SignJWT({ host: 'inner.example', port: 5902 })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(now() + 60)
      .sign(new TextEncoder().encode(secret.slice(0, 32)));
    const jwe32 = await new CompactEncrypt(new TextEncoder().encode(innerFor32))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .encrypt(new TextEncoder().encode(secret.slice(0, 32)));
    const r32 = jwtResolver(key32File, { log: silentLogger });
    assert.deepEqual(await r32.resolve(jwe32, ctx), {
      kind: 'found',
      target: { kind: 'tcp', host: 'inner.example', port: 5902 },
    });
    assert.deepEqual(await hsResolver.resolve(jweShared, ctx), { kind: 'unknown' }, 'JWE for another key');

    const rsaInner = await new SignJWT({ host: 'rsa.example', port: 5903 })
      .setProtectedHeader({ alg: 'RS256' })
      .setExpirationTime(now() + 60)
      .sign(rsa.privateKey);
    const jweRsa = await new CompactEncrypt(new TextEncoder().encode(rsaInner))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM' })
      .encrypt(rsa.publicKey);
    assert.deepEqual(await jwtResolver(rsaPrivate, { log: silentLogger }).resolve(jweRsa, ctx), {
      kind: 'found',
      target: { kind: 'tcp', host: 'rsa.example', port: 5903 },
    });
    assert.deepEqual(
      await jwtResolver(rsaPublic, { log: silentLogger }).resolve(jweRsa, ctx),
      { kind: 'unknown' },
      'a public key cannot decrypt',
    );
  });

  test('audience and issuer, end to end through the proxy; the token is never logged', async () => {
    const target = await startEchoTarget();
    const proxy = await startProxy(1, {
      targets: {
        kind: 'token',
        plugin: 'JWTTokenApi',
        source: rsaPublic,
        from: 'query',
        jwtAudience: 'wsproxy',
        jwtIssuer: 'console',
      },
    });
    try {
      const sign = (claims: Record<string, unknown>): Promise<string> =>
        new SignJWT({ host: '127.0.0.1', port: target.port, ...claims })
          .setProtectedHeader({ alg: 'RS256' })
          .setExpirationTime(now() + 60)
          .sign(rsa.privateKey);
      const good = await sign({ aud: 'wsproxy', iss: 'console' });
      const ws = await openWs(`ws://127.0.0.1:${proxy.port}/websockify?token=${good}`);
      ws.send(Buffer.from('jwt'));
      const [d] = (await once(ws, 'message')) as [Buffer];
      assert.equal(d.toString(), 'jwt');
      ws.terminate();
      assert.equal(
        statusOf(await exchange(proxy.port, upgradeRequest(`/?token=${await sign({ aud: 'other', iss: 'console' })}`))),
        404,
      );
      assert.equal(
        statusOf(
          await exchange(proxy.port, upgradeRequest(`/?token=${await sign({ aud: 'wsproxy', iss: 'someone' })}`)),
        ),
        404,
      );
      assert.ok(!proxy.logs.join('').includes(good.split('.')[2] ?? 'x'), 'token not in the logs');
      assert.ok(proxy.logs.some((l) => l.includes('JWT refused')));
    } finally {
      await proxy.close();
      await target.close();
    }
  });
});
