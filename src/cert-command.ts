/**
 * `wsproxy cert init|user|revoke|list` (and butterfly's spellings `generateCerts`, `generateUserPkcs` NAME`):
 * validates the values `cli.ts` collected, then runs the library code in certs/. main.ts calls this and owns the
 * terminal: it passes in how to print and how to ask for a password. Errors are `ConfigError`s (one line, exit 2).
 *
 * The `.p12` password never comes from a plain command-line value (it would show in `ps` and shell history):
 * `p12PasswordFile` FILE` (first line), else the `WSPROXY_P12_PASSWORD` environment variable, else a prompt on
 * the terminal (asked twice, not echoed). Without any of them the command fails.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DEFAULT_DAYS, parseHosts } from './certs/authority.js';
import { localNames } from './certs/self-signed.js';
import { addUser, initStore, listIssued, revoke } from './certs/store.js';
import { defaultStateDir } from './config/state.js';
import { CertInputError, ConfigError } from './errors.js';
import { flag } from './config/options/index.js';

/** The environment variable `cert user` reads the `.p12` password from. */
export const P12_PASSWORD_ENV = 'WSPROXY_P12_PASSWORD';

/** The certificate subcommand as the command line delivers it. */
export interface CertArgs {
  /** `init`, `user`, `revoke`, `list` (whatever was typed; checked here). */
  readonly action: string | undefined;
  /** Positionals after the action (the user name for `user`/`revoke`). */
  readonly names: readonly string[];
  readonly hosts: readonly string[];
  readonly days: string | undefined;
  readonly certDir: string | undefined;
  readonly stateDir: string | undefined;
  readonly web: string | undefined;
  readonly p12PasswordFile: string | undefined;
  readonly p12Compat: boolean;
}

/** What the command needs from the process edge. */
export interface CertIo {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Prints one line for the person. */
  out(line: string): void;
  /** Asks for a secret without echo; undefined when there is no terminal to ask on. */
  askSecret?: ((prompt: string) => Promise<string>) | undefined;
}

const ACTIONS = ['init', 'user', 'revoke', 'list'] as const;

function parseDays(text: string | undefined): number {
  if (text === undefined) return DEFAULT_DAYS;
  if (!/^\s*\d+\s*$/.test(text) || Number(text) < 1)
    throw new ConfigError(flag('days'), `${flag('days')}: '${text}' is not a whole number of days (at least 1)`);
  return Number(text);
}

async function p12Password(args: CertArgs, io: CertIo): Promise<string> {
  let password: string | undefined;
  if (args.p12PasswordFile !== undefined) {
    const file = resolve(io.cwd, args.p12PasswordFile);
    try {
      password = (await readFile(file, 'utf8')).split(/\r?\n/)[0] ?? '';
    } catch {
      throw new ConfigError(
        flag('p12PasswordFile'),
        `${flag('p12PasswordFile')}: cannot read '${file}'; give a file whose first line is the password`,
      );
    }
    if (password === '')
      throw new ConfigError(
        flag('p12PasswordFile'),
        `${flag('p12PasswordFile')}: the first line of '${file}' is empty; a .p12 needs a password`,
      );
    return password;
  }
  password = io.env[P12_PASSWORD_ENV];
  if (password !== undefined) {
    if (password === '')
      throw new ConfigError(flag('p12PasswordFile'), `${P12_PASSWORD_ENV} is empty; a .p12 needs a password`);
    return password;
  }
  if (!io.askSecret) {
    throw new ConfigError(
      flag('p12PasswordFile'),
      `the .p12 needs a password: give ${flag('p12PasswordFile')} FILE or set ${P12_PASSWORD_ENV} (no terminal to ask on)`,
    );
  }
  const first = await io.askSecret('Password for the .p12 file: ');
  if (first === '') throw new ConfigError(flag('p12PasswordFile'), 'the .p12 password must not be empty');
  const second = await io.askSecret('Same password again: ');
  if (first !== second)
    throw new ConfigError(flag('p12PasswordFile'), 'the two passwords differ; run the command again');
  return first;
}

type Action = (typeof ACTIONS)[number];

/** Runs the certificate subcommand. Throws `ConfigError` for anything the person can fix. */
export async function runCertCommand(args: CertArgs, io: CertIo): Promise<void> {
  const action = checkedAction(args);
  const stateDir = resolve(io.cwd, args.stateDir ?? defaultStateDir(io.env));
  const dir = resolve(io.cwd, args.certDir ?? resolve(stateDir, 'ca'));
  try {
    await RUN[action](args, io, dir);
  } catch (err) {
    throw storeError(err, dir);
  }
}

/** The action, after checking that the names and options given go with it. */
function checkedAction(args: CertArgs): Action {
  const action = ACTIONS.find((a) => a === args.action);
  if (action === undefined) {
    throw new ConfigError(
      'cert',
      `'wsproxy cert ${args.action ?? ''}': choose one of ${ACTIONS.join(', ')} (e.g. wsproxy cert init ${flag('host')} vnc.example.com)`,
    );
  }
  const needsName = action === 'user' || action === 'revoke';
  if (needsName && args.names.length !== 1) {
    throw new ConfigError(
      'cert',
      `'wsproxy cert ${action}' needs exactly one user name, e.g. wsproxy cert ${action} alice`,
    );
  }
  if (!needsName && args.names.length > 0)
    throw new ConfigError('cert', `'wsproxy cert ${action}' takes no name ('${args.names.join(' ')}')`);
  if (action !== 'init' && args.hosts.length > 0)
    throw new ConfigError(flag('host'), `${flag('host')} goes with 'wsproxy cert init'`);
  if (action !== 'user' && (args.p12Compat || args.p12PasswordFile !== undefined)) {
    throw new ConfigError(
      flag('p12Compat'),
      `${flag('p12Compat')} and ${flag('p12PasswordFile')} go with 'wsproxy cert user NAME'`,
    );
  }
  return action;
}

/** What the person can fix becomes a `ConfigError`: bad input to certs/, or a folder wsproxy cannot use. */
function storeError(err: unknown, dir: string): unknown {
  if (err instanceof CertInputError) return new ConfigError('cert', err.message);
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    return new ConfigError(
      flag('certDir'),
      `cannot use '${dir}' (${code}); check the folder and its permissions or give ${flag('certDir')}`,
    );
  }
  return err;
}

const RUN: Record<Action, (args: CertArgs, io: CertIo, dir: string) => Promise<void>> = {
  init: certInit,
  user: certUser,
  revoke: certRevoke,
  list: certList,
};

async function certInit(args: CertArgs, io: CertIo, dir: string): Promise<void> {
  const names = args.hosts.length > 0 ? parseHosts(args.hosts) : localNames();
  const r = await initStore(
    dir,
    names,
    parseDays(args.days),
    args.web === undefined ? undefined : resolve(io.cwd, args.web),
  );
  io.out(r.caCreated ? `made a new CA: ${r.caFile} (key ca.key, mode 0600)` : `kept the existing CA: ${r.caFile}`);
  io.out(`CA SHA-256 fingerprint: ${r.caFingerprint256}`);
  io.out(
    `server certificate for ${[...names.dns, ...names.ips].join(', ')}: ${r.serverFile} (valid until ${r.serverNotAfter.toISOString()})`,
  );
  io.out(`server SHA-256 fingerprint: ${r.serverFingerprint256}`);
  io.out(`revocation list: ${r.crlFile}`);
  io.out(
    `next: wsproxy ${flag('cert')} ${r.serverFile} 6080 localhost:5900, then open https://HOST:6080/ to download ca.crt`,
  );
}

async function certUser(args: CertArgs, io: CertIo, dir: string): Promise<void> {
  const name = args.names[0]!;
  const days = parseDays(args.days);
  const password = await p12Password(args, io);
  const r = await addUser(dir, name, days, password, args.p12Compat);
  io.out(`client certificate for ${name}: ${r.certFile} (serial ${r.serial}, valid until ${r.notAfter.toISOString()})`);
  io.out(
    `PKCS#12 for the browser or OS store: ${r.p12File} (${args.p12Compat ? '3DES/SHA-1 for macOS Keychain: weaker encryption, keep the file private' : 'AES-256/PBKDF2/SHA-256'})`,
  );
}

async function certRevoke(args: CertArgs, io: CertIo, dir: string): Promise<void> {
  const r = await revoke(dir, args.names[0]!);
  io.out(
    `revoked serial ${r.serials.join(', ')}; ${r.crlFile} rewritten (a running wsproxy with ${flag('crl')} reloads it)`,
  );
}

async function certList(_args: CertArgs, io: CertIo, dir: string): Promise<void> {
  const issued = await listIssued(dir);
  if (issued.length === 0) io.out(`no certificates issued in ${dir}; run 'wsproxy cert init ${flag('host')} NAME'`);
  for (const e of issued) {
    const status =
      e.revokedAt !== undefined ? `revoked ${e.revokedAt}` : Date.parse(e.notAfter) < Date.now() ? 'expired' : 'valid';
    io.out(`${e.kind.padEnd(6)} ${e.name.padEnd(24)} ${e.serial} until ${e.notAfter} ${status}`);
  }
}
