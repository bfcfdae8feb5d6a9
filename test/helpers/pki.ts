/**
 * A throwaway PKI made with the `openssl` CLI (`openssl ca`, so certificates can be back-dated, revoked and listed in
 * a CRL): a test CA with a server certificate for localhost/127.0.0.1/::1, client certificates (good, expired,
 * revoked, CN not on an allowlist, wildcard SAN), and a second, unrelated CA with its own client. Generated into a
 * temp dir once per test process.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** A client certificate and its key (PEM). */
export interface ClientPair {
  readonly cert: string;
  readonly key: string;
  readonly certFile: string;
}

/** The generated files and PEMs. */
export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  readonly ca: string;
  readonly crlFile: string;
  /** Server certificate + key in one PEM (the `--cert` shape), issued by the test CA. */
  readonly serverPem: string;
  /** The same with an RSA-2048 key (static-RSA key exchange is only possible with an RSA certificate). */
  readonly rsaServerPem: string;
  /** A second server certificate (ECDSA) for reload tests, and one more; each is a `--cert` PEM. */
  readonly altServerPems: readonly [string, string];
  /** ffdhe2048 DH parameters (PEM). */
  readonly dhparamFile: string;
  /** The CA's config, to issue or revoke more. */
  readonly caConfig: string;
  readonly clients: {
    readonly good: ClientPair; // CN=alice
    readonly otherCa: ClientPair; // CN=alice, issued by another CA
    readonly expired: ClientPair; // CN=alice, expired in 2020
    readonly revoked: ClientPair; // CN=bob, listed in the CRL
    readonly notAllowed: ClientPair; // CN=carol, valid, not on the allowlist
    readonly wildcard: ClientPair; // CN=dave, SAN DNS:dave.ops.test
    readonly viaIntermediate: ClientPair; // CN=frank, issued by an intermediate CA; cert holds leaf + intermediate
  };
}

function openssl(args: readonly string[], env: NodeJS.ProcessEnv = {}): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
}

function caConfig(dir: string): string {
  return `[ ca ]
default_ca = CA_default
[ CA_default ]
dir = ${dir}
database = ${dir}/index.txt
new_certs_dir = ${dir}/newcerts
serial = ${dir}/serial
crlnumber = ${dir}/crlnumber
certificate = ${dir}/ca.crt
private_key = ${dir}/ca.key
default_md = sha256
default_days = 30
default_crl_days = 30
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
[ client_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = \${ENV::SAN}
[ ca_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[ server_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
`;
}

/**
 * Makes a CA in `dir` (key, certificate, `openssl ca` database). Self-signed, or an intermediate issued by the CA
 * whose config is `parent` (then `parentDir` holds that CA). Returns its config file.
 */
export function makeCa(dir: string, name: string, parent?: { cnf: string; dir: string }): string {
  mkdirSync(join(dir, 'newcerts'), { recursive: true });
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(join(dir, 'crlnumber'), '1000\n');
  const cnf = join(dir, 'ca.cnf');
  writeFileSync(cnf, caConfig(dir));
  if (parent) {
    const sub = issue(parent.cnf, parent.dir, `sub-${basename(dir)}`, { cn: name, ext: 'ca_ext', san: `DNS:${basename(dir)}.ca.test` });
    writeFileSync(join(dir, 'ca.crt'), sub.cert);
    copyFileSync(join(parent.dir, `sub-${basename(dir)}.key`), join(dir, 'ca.key'));
    return cnf;
  }
  openssl([
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'ca.key'),
    '-out', join(dir, 'ca.crt'), '-days', '30', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return cnf;
}

/** Issues a certificate from the CA whose config is `cnf`. `dates` back-dates it (YYYYMMDDHHMMSSZ). */
export function issue(
  cnf: string,
  dir: string,
  name: string,
  options: { cn: string; san?: string; ext?: 'client_ext' | 'server_ext' | 'ca_ext'; dates?: [start: string, end: string]; rsa?: boolean },
): ClientPair {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const crt = join(dir, `${name}.crt`);
  const keyArgs = options.rsa ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  openssl(['req', '-new', ...keyArgs, '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${options.cn}`]);
  openssl(
    [
      'ca', '-batch', '-notext', '-config', cnf, '-in', csr, '-out', crt, '-extensions', options.ext ?? 'client_ext',
      ...(options.dates ? ['-startdate', options.dates[0], '-enddate', options.dates[1]] : []),
    ],
    { SAN: options.san ?? `DNS:${options.cn}.clients.test` },
  );
  return { cert: readFileSync(crt, 'utf8'), key: readFileSync(key, 'utf8'), certFile: crt };
}

/** Revokes a certificate and writes the CA's CRL to `out`. */
export function revoke(cnf: string, certFile: string | undefined, out: string): void {
  if (certFile !== undefined) openssl(['ca', '-config', cnf, '-revoke', certFile], { SAN: '' });
  openssl(['ca', '-config', cnf, '-gencrl', '-out', out], { SAN: '' });
}

let cache: TestPki | undefined;

/** The test PKI, made once per process. */
export function testPki(): TestPki {
  if (cache) return cache;
  const dir = mkdtempSync(join(tmpdir(), 'wsproxy-pki-'));
  const caDir = join(dir, 'ca');
  const otherDir = join(dir, 'other');
  const cnf = makeCa(caDir, 'wsproxy test CA');
  const otherCnf = makeCa(otherDir, 'some other CA');
  const server = issue(cnf, caDir, 'server', { cn: 'localhost', ext: 'server_ext' });
  const serverPem = join(dir, 'server.pem');
  writeFileSync(serverPem, server.cert + server.key, { mode: 0o600 });
  const rsa = issue(cnf, caDir, 'server-rsa', { cn: 'localhost', ext: 'server_ext', rsa: true });
  const rsaServerPem = join(dir, 'server-rsa.pem');
  writeFileSync(rsaServerPem, rsa.cert + rsa.key, { mode: 0o600 });
  const altServerPems = [1, 2].map((n) => {
    const alt = issue(cnf, caDir, `server-alt${n}`, { cn: 'localhost', ext: 'server_ext' });
    const file = join(dir, `server-alt${n}.pem`);
    writeFileSync(file, alt.cert + alt.key, { mode: 0o600 });
    return file;
  }) as [string, string];
  const dhparamFile = join(dir, 'dh.pem');
  openssl(['genpkey', '-genparam', '-algorithm', 'DH', '-pkeyopt', 'group:ffdhe2048', '-out', dhparamFile]);
  const clients = {
    good: issue(cnf, caDir, 'alice', { cn: 'alice' }),
    otherCa: issue(otherCnf, otherDir, 'alice', { cn: 'alice' }),
    expired: issue(cnf, caDir, 'expired', { cn: 'alice', dates: ['20200101000000Z', '20200201000000Z'] }),
    revoked: issue(cnf, caDir, 'bob', { cn: 'bob' }),
    notAllowed: issue(cnf, caDir, 'carol', { cn: 'carol' }),
    wildcard: issue(cnf, caDir, 'dave', { cn: 'dave', san: 'DNS:dave.ops.test' }),
    viaIntermediate: ((): ClientPair => {
      const subDir = join(dir, 'sub');
      const subCnf = makeCa(subDir, 'wsproxy test intermediate', { cnf, dir: caDir });
      const frank = issue(subCnf, subDir, 'frank', { cn: 'frank' });
      // The client sends its chain: leaf, then the intermediate.
      return { ...frank, cert: frank.cert + readFileSync(join(subDir, 'ca.crt'), 'utf8') };
    })(),
  };
  const crlFile = join(dir, 'ca.crl');
  revoke(cnf, clients.revoked.certFile, crlFile);
  const caFile = join(caDir, 'ca.crt');
  cache = { dir, caFile, ca: readFileSync(caFile, 'utf8'), crlFile, serverPem, rsaServerPem, altServerPems, dhparamFile, caConfig: cnf, clients };
  return cache;
}
