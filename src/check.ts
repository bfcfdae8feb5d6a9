/**
 * `wsproxy check`: validates a configuration the way the daemon would use it, without serving anyone. Each check
 * yields one finding (ok / warn / fail with a short detail); `main.ts` prints them and exits 0 when nothing failed,
 * 1 otherwise (2 is left for usage errors), so scripts and deploy pipelines can gate on it.
 *
 * What is checked: the certificate and key (readable, a matching pair, validity dates, names, whether the chain
 * verifies against Node's CA store), the listen address (free to bind), the token source (answers a lookup) and a
 * fixed target (accepts a TCP connection). Secrets never appear in a finding.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import type { Config } from './config/types.js';
import { CertificateError, errnoCode, ProxyError, TimeoutError } from './errors.js';
import { silentLogger } from './log.js';
import { connectTarget } from './relay/connect.js';
import { loadCertificate, type LoadedCertificate } from './tls/context.js';
import { createTokenResolver } from './targets/registry.js';
import { describeTarget } from './targets/types.js';
import { openRelayWarning } from './policy/open-relay.js';
import { flag } from './config/options/index.js';

/** One result line. */
export interface Finding {
  readonly status: 'ok' | 'warn' | 'fail';
  readonly check: string;
  readonly detail: string;
}

/** Certificates expiring within this many days are a warning. */
const EXPIRY_WARNING_DAYS = 30;

/** Runs every check that applies to `config` and returns the findings in order. */
export async function runChecks(config: Config, now = new Date()): Promise<Finding[]> {
  const findings: Finding[] = [];
  findings.push(...(await checkCertificate(config, now)));
  findings.push(await checkListen(config));
  findings.push(...(await checkTargets(config)));
  const relay = openRelayWarning(config);
  if (relay !== undefined) findings.push({ status: 'warn', check: 'access', detail: `${relay} [OPEN_RELAY]` });
  return findings;
}

/** 0 when nothing failed, 1 otherwise. */
export function exitCodeFor(findings: readonly Finding[]): number {
  return findings.some((f) => f.status === 'fail') ? 1 : 0;
}

/** `ok    certificate  detail` lines, aligned. */
export function formatFindings(findings: readonly Finding[]): string {
  const width = Math.max(...findings.map((f) => f.check.length), 5);
  return findings.map((f) => `${f.status.padEnd(5)} ${f.check.padEnd(width)}  ${f.detail}`).join('\n');
}

async function checkCertificate(config: Config, now: Date): Promise<Finding[]> {
  const { tls } = config;
  if (!tls.certGiven && !existsSync(tls.certFile)) {
    return [
      {
        status: tls.generateIfMissing ? 'ok' : 'warn',
        check: 'certificate',
        detail: tls.generateIfMissing
          ? `no ${flag('cert')} and no self.pem: a self-signed certificate is made (once, in the state directory) at start`
          : `${tls.certFile} does not exist: wss:// and https:// are off until it does`,
      },
    ];
  }
  let loaded: LoadedCertificate;
  try {
    loaded = await loadCertificate(tls);
  } catch (err) {
    return [
      {
        status: 'fail',
        check: 'certificate',
        detail: err instanceof CertificateError ? err.message : `cannot load: ${(err as Error).message}`,
      },
    ];
  }
  const out: Finding[] = [];
  const chain = pemCertificates(readFileSync(tls.certFile, 'utf8'));
  const leaf = chain[0]!;
  const from = new Date(leaf.validFrom);
  const to = new Date(leaf.validTo);
  const days = Math.floor((to.getTime() - now.getTime()) / 86_400_000);
  out.push({
    status: 'ok',
    check: 'certificate',
    detail: `${tls.certFile}: key matches; ${loaded.subject}; sha256 ${loaded.fingerprint256}`,
  });
  if (now < from) out.push({ status: 'fail', check: 'validity', detail: `not valid before ${from.toISOString()}` });
  else if (now > to) out.push({ status: 'fail', check: 'validity', detail: `expired on ${to.toISOString()}` });
  else if (days < EXPIRY_WARNING_DAYS)
    out.push({ status: 'warn', check: 'validity', detail: `expires in ${days} days (${to.toISOString()})` });
  else out.push({ status: 'ok', check: 'validity', detail: `valid until ${to.toISOString()} (${days} days)` });
  out.push(
    loaded.names.length === 0
      ? {
          status: 'warn',
          check: 'names',
          detail: 'no subjectAltName: browsers ignore the CN and will refuse the certificate',
        }
      : { status: 'ok', check: 'names', detail: loaded.names.join(', ') },
  );
  // The chain in the file must link up: each certificate issued and signed by the next.
  for (let i = 0; i + 1 < chain.length; i++) {
    const [child, parent] = [chain[i]!, chain[i + 1]!];
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      out.push({
        status: 'fail',
        check: 'chain',
        detail: `certificate ${i + 1} in ${tls.certFile} is not issued by certificate ${i + 2}: order is leaf first, then intermediates`,
      });
      return out;
    }
  }
  out.push(await checkTrust(loaded, chain));
  return out;
}

/** Splits a PEM bundle into certificates (keys and other blocks skipped). */
function pemCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

/**
 * Whether a client trusting Node's CA store (plus NODE_EXTRA_CA_CERTS) accepts the served chain for its first name:
 * a real handshake on loopback, verification on, the verdict read from the error code.
 */
async function checkTrust(loaded: LoadedCertificate, chain: readonly X509Certificate[]): Promise<Finding> {
  const servername = loaded.names.find((n) => !/^[\d.]+$/.test(n) && !n.includes(':')) ?? 'localhost';
  const server = createTlsServer(loaded.options, (socket) => {
    socket.on('error', () => undefined);
    socket.end();
  });
  server.on('error', () => undefined);
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  try {
    const code = await new Promise<string | undefined>((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, servername });
      socket.setTimeout(5_000, () => socket.destroy(new TimeoutError('timeout')));
      socket.once('secureConnect', () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.once('error', (err) => resolve(errnoCode(err) ?? 'ERROR'));
    });
    if (code === undefined) return { status: 'ok', check: 'trust', detail: `publicly trusted chain for ${servername}` };
    const selfSigned = chain.length === 1 && chain[0]!.checkIssued(chain[0]!);
    const detail =
      code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || selfSigned
        ? 'self-signed: each browser must accept it once (open https://host:port/), or use `wsproxy cert init` and install the CA'
        : code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'
          ? 'issued by a CA that Node does not trust: a private CA (clients must install it) or intermediates missing from the file'
          : code === 'SELF_SIGNED_CERT_IN_CHAIN'
            ? 'the chain ends in a root that is not publicly trusted (a private CA): clients must install it'
            : code === 'ERR_TLS_CERT_ALTNAME_INVALID'
              ? `the certificate does not name ${servername}`
              : `not trusted by Node's CA store (${code})`;
    return { status: 'warn', check: 'trust', detail };
  } finally {
    server.close();
  }
}

/** The listen address can be bound (or is in use, e.g. by the running daemon: a warning). */
async function checkListen(config: Config): Promise<Finding> {
  const listen = config.listen;
  if (listen.kind === 'inetd') return { status: 'ok', check: 'listen', detail: 'inetd: the socket comes on fd 0' };
  if (listen.kind === 'unix') {
    return existsSync(listen.path)
      ? {
          status: 'warn',
          check: 'listen',
          detail: `unix:${listen.path} exists: in use, or a stale socket replaced at start`,
        }
      : { status: 'ok', check: 'listen', detail: `unix:${listen.path}` };
  }
  const where = `${listen.host ?? '*'}:${listen.port}`;
  if (listen.port === 0) return { status: 'ok', check: 'listen', detail: `${where} (any free port)` };
  const probe = createNetServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ port: listen.port, ...(listen.host === undefined ? {} : { host: listen.host }) }, resolve);
    });
    return { status: 'ok', check: 'listen', detail: `${where} is free` };
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'EADDRINUSE')
      return { status: 'warn', check: 'listen', detail: `${where} is in use (the running daemon?)` };
    return { status: 'fail', check: 'listen', detail: `cannot listen on ${where} (${code ?? (err as Error).message})` };
  } finally {
    probe.close();
  }
}

/** The fixed target accepts a connection; a token source answers a lookup of a random token. */
async function checkTargets(config: Config): Promise<Finding[]> {
  const targets = config.targets;
  const timeoutMs = config.limits.connectTimeoutMs;
  if (targets.kind === 'demo') return [{ status: 'ok', check: 'target', detail: `built-in echo (${flag('demo')})` }];
  if (targets.kind === 'fixed') {
    const shown = describeTarget(targets.target);
    try {
      const { socket, address } = await connectTarget(targets.target, timeoutMs, new AbortController().signal);
      socket.destroy();
      return [{ status: 'ok', check: 'target', detail: `${shown} accepts connections (${address})` }];
    } catch (err) {
      const reason = err instanceof ProxyError ? ` (${err.code})` : '';
      return [{ status: 'fail', check: 'target', detail: `${(err as Error).message}${reason}` }];
    }
  }
  let resolver;
  try {
    resolver = createTokenResolver(targets.plugin, targets.source, silentLogger, {
      jwtAudience: targets.jwtAudience,
      jwtIssuer: targets.jwtIssuer,
    });
  } catch (err) {
    return [
      {
        status: 'fail',
        check: 'token source',
        detail: `${targets.plugin}: ${(err as Error).message.split('\n')[0] ?? 'unusable'}`,
      },
    ];
  }
  try {
    // A random token no source holds: a reachable source answers "unknown", a broken one throws.
    const probe = `wsproxy-check-${randomBytes(8).toString('hex')}`;
    const answer = await resolver.resolve(probe, {
      remoteAddress: '127.0.0.1',
      scheme: 'ws',
      host: undefined,
      path: '/',
    });
    return [
      {
        status: 'ok',
        check: 'token source',
        detail: `${targets.plugin} answers lookups (${answer.kind === 'unknown' ? 'a random token is unknown' : 'a random token matched: check the source'})`,
      },
    ];
  } catch (err) {
    const reason = err instanceof ProxyError ? ` (${err.code})` : '';
    return [
      {
        status: 'fail',
        check: 'token source',
        detail: `${targets.plugin} does not answer: ${(err as Error).message.split('\n')[0] ?? ''}${reason}`,
      },
    ];
  } finally {
    await resolver.close?.();
  }
}
