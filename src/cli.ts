/**
 * The command line: websockify's positionals and flags, parsed by yargs with the spec derived from the option table
 * (`config/options/`), turned into `CliArgs`. It never exits or prints: `main.ts` does that with what
 * `parseCommandLine` returns.
 */
import yargs from 'yargs';
import type { Options } from 'yargs';
import { configFileFromArgv, optionsFromEnv, optionsFromFile, type SourceValues } from './cli-sources.js';
import { SourceError, UsageError } from './errors.js';
import type { CertArgs } from './cert-command.js';
import {
  envName,
  flag,
  helpLine,
  OPTION_ENTRIES,
  optionKey,
  optionName,
  optionSpec,
  type CliArgs,
  type OptionKey,
  type OptionSpec,
} from './config/options/index.js';

/** The config file a command line uses (the flag, else its variable), if any: named in reload errors. */
export function configFileOf(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const file = configFileFromArgv(argv) ?? env[envName('config') ?? ''];
  return file === undefined || file === '' ? undefined : file;
}

/** What the command line asks for. */
export type CommandLine =
  | { kind: 'run'; args: CliArgs; notices: readonly string[] }
  | { kind: 'check'; args: CliArgs; notices: readonly string[] }
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  | { kind: 'cert'; args: CertArgs };

/** `${RUN_HELP} …`: the advice every usage error ends with. */
const RUN_HELP = `run 'wsproxy ${flag('help')}'`;

const USAGE = `Usage:
  wsproxy [options] [source_addr:]source_port target_addr:target_port
  wsproxy [options] [source_addr:]source_port unix:/path/to/target.sock
  wsproxy [options] ${flag('tokenPlugin')} TokenFile ${flag('tokenSource')} FILE [source_addr:]source_port
  wsproxy ${flag('demo')} [options] [source_addr:]source_port
  wsproxy check [options] ...     validate the same options without serving: certificate, listen address, target
  wsproxy cert init|user NAME|revoke NAME|list [${flag('certDir')} DIR] [${flag('host')} NAME…] [${flag('days')} N]
  wsproxy [options] ${flag('wrapTarget')} host:port [source_addr:]source_port -- COMMAND [ARGS...]

One port serves ws:// and wss:// (the first byte of each connection decides), the built-in pages (or ${flag('web')} DIR)
over http:// and https://, and relays every WebSocket session to the target as binary frames.`;

const EXAMPLES: [string, string][] = [
  [
    `wsproxy ${flag('cert')} self.pem 6080 localhost:5900`,
    'noVNC at ws(s)://host:6080/websockify reaches the VNC server on :5900',
  ],
  [`wsproxy ${flag('demo')} 6080`, 'built-in echo target and a self-signed certificate, to try it out'],
  [
    `wsproxy ${flag('web')} /usr/share/novnc [::1]:6080 [2001:db8::1]:5900`,
    'serve noVNC and relay, IPv6 on both sides',
  ],
];

/** One option's yargs spec. Numbers stay strings so that `resolveConfig` can say what is wrong with `10s`. */
function yargsOption(spec: OptionSpec): Options {
  return {
    type: spec.kind === 'boolean' ? 'boolean' : 'string',
    describe: helpLine(spec),
    group: `${spec.group}:`,
    ...(spec.alias === undefined ? {} : { alias: spec.alias }),
    ...(spec.default === undefined ? {} : { default: spec.default }),
    ...(spec.kind !== 'list' ? {} : spec.greedy ? { array: true } : { array: true, nargs: 1, default: [] }),
  };
}

const YARGS_OPTIONS: Record<string, Options> = Object.fromEntries(
  OPTION_ENTRIES.map(([name, spec]) => [name, yargsOption(spec)]),
);

/** Reads the config file (flag or variable) and the environment; a mistake is a `UsageError`. */
function optionSources(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): { file: SourceValues; env: SourceValues; notices: string[] } {
  try {
    const file = configFileOf(argv, env);
    const fromFile = file === undefined ? { options: {}, positionals: undefined } : optionsFromFile(file);
    const fromEnv = optionsFromEnv(env);
    return { file: fromFile, env: fromEnv, notices: fromEnv.notices };
  } catch (err) {
    if (err instanceof SourceError) throw new UsageError(err.message, err.problem);
    throw err;
  }
}

/** What yargs' command chose: serve (the default), `check` (validate, serve nothing) or `cert` (the CA). */
type Command = 'run' | 'check' | 'cert';

/** The parser, with the three commands as yargs commands (hidden: the usage text lists them). */
function buildParser(argv: readonly string[], chosen: (command: Command) => void = () => {}) {
  const command = (name: Command, spelling: string) => ({
    command: spelling,
    describe: false as const,
    handler: () => chosen(name),
  });
  return yargs([...argv])
    .scriptName('wsproxy')
    .help(false)
    .version(false)
    .usage(USAGE)
    .options(YARGS_OPTIONS)
    .example(EXAMPLES)
    .command(command('check', 'check'))
    .command(command('cert', 'cert'))
    .command(command('run', '$0'))
    .parserConfiguration({ 'populate--': true, 'unknown-options-as-args': false, 'duplicate-arguments-array': false })
    .strictOptions()
    .exitProcess(false)
    .wrap(Math.min(120, process.stdout.columns || 120))
    .epilogue('Error codes, TLS, noVNC and Docker: see README.md.')
    .fail((msg: string | undefined, err: Error | undefined) => {
      throw new UsageError(rephrase(msg ?? err?.message ?? 'invalid arguments'));
    });
}

/** Turns yargs' messages into "what is wrong; how to fix it". */
function rephrase(msg: string): string {
  const unknown = /^Unknown arguments?: (.*)$/.exec(msg);
  if (unknown?.[1]) {
    const names = unknown[1].split(', ').map((n) => (n.length === 1 ? `-${n}` : `--${n}`));
    return `unknown option ${names.join(', ')}; ${RUN_HELP} for the list`;
  }
  const missing = /^Not enough arguments following: (.*)$/.exec(msg);
  if (missing?.[1]) return `option --${missing[1]} needs a value; ${RUN_HELP} for its meaning`;
  return `${msg}; ${RUN_HELP} for usage`;
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return str(v[v.length - 1]);
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

/** What yargs parsed, by long option name. */
type Parsed = Readonly<Record<string, unknown>> & { readonly _: readonly (string | number)[]; readonly '--'?: unknown };

const get = (parsed: Parsed, key: OptionKey): unknown => parsed[optionName(key)];

/**
 * websockify's client-certificate flag is a switch, so `--X 6080 host:5900` must not eat the port: a bare flag with a
 * `bare` value (next word absent, an option, or not one of its values) becomes `--X=value` before yargs sees it.
 */
function bareFlags(argv: readonly string[]): string[] {
  const bare = new Map<string, OptionSpec>(
    OPTION_ENTRIES.flatMap(([name, spec]) => (spec.bare === undefined ? [] : [[`--${name}`, spec] as const])),
  );
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] ?? '';
    if (word === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const spec = bare.get(word);
    if (spec !== undefined && !spec.values?.includes(argv[i + 1] ?? '')) out.push(`${word}=${spec.bare}`);
    else out.push(word);
  }
  return out;
}

/** A string option given empty (last on the line, or an empty variable): refused for the options `which` picks. */
function requireValues(parsed: Parsed, which: (name: string, spec: OptionSpec) => boolean): void {
  for (const [name, spec] of OPTION_ENTRIES) {
    if (spec.kind !== 'string' || spec.bare !== undefined || !which(name, spec)) continue;
    if (spec.default !== undefined && spec.needsValue !== true) continue;
    const v = parsed[name];
    if (v !== undefined && (typeof v !== 'string' || v.length === 0)) {
      throw new UsageError(`option --${name} needs a value; ${RUN_HELP} for its meaning`);
    }
  }
}

/** Serving refuses the options of `wsproxy cert …`. */
function refuseCertOptions(parsed: Parsed): void {
  for (const [name, spec] of OPTION_ENTRIES) {
    const v = parsed[name];
    if (spec.command === 'cert' && v !== undefined && v !== false)
      throw new UsageError(`option --${name} goes with 'wsproxy cert …'; see 'wsproxy ${flag('help')}'`);
  }
}

/** One option's `CliArgs` value, by its kind. */
function argValue(spec: OptionSpec, v: unknown): unknown {
  if (spec.kind === 'boolean') return v;
  if (spec.kind === 'list') return ((v as unknown[] | undefined) ?? []).map(String);
  return spec.default === undefined ? str(v) : (str(v) ?? '');
}

/** The `CliArgs` of a serving command line: every serving option by its camelCase key, and the special cases. */
function cliArgsOf(
  parsed: Parsed,
  fromArgv: readonly string[],
  sources: { file: SourceValues; env: SourceValues },
): CliArgs {
  const args: Record<string, unknown> = {};
  for (const [name, spec] of OPTION_ENTRIES) {
    if (spec.command === undefined && spec.ignored !== true) args[optionKey(name)] = argValue(spec, parsed[name]);
  }
  const clientCertAllow = str(get(parsed, 'clientCertAllow'));
  const targetVerify = get(parsed, 'targetVerify');
  return {
    ...(args as CliArgs),
    positionals: fromArgv.length > 0 ? fromArgv : [...(sources.env.positionals ?? sources.file.positionals ?? [])],
    // The default stays `undefined`, so that resolveConfig can tell `none` given from nothing said.
    targetVerify: targetVerify === optionSpec(optionName('targetVerify'))?.default ? undefined : str(targetVerify),
    // One value holding a space/comma list, split by resolveConfig.
    clientCertAllow: clientCertAllow === undefined ? [] : [clientCertAllow],
    wrapCommand: (parsed['--'] as unknown[] | undefined)?.map(String) ?? [],
  };
}

/**
 * Parses argv (without `node` and the script), layered over `WSPROXY_*` variables of `env` and the config file.
 * Throws `UsageError` for anything wrong in any of them.
 */
export function parseCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): CommandLine {
  const sources = optionSources(argv, env);
  let command = 'run' as Command;
  // yargs gives flags precedence over .config() values, and those over defaults; env is layered over the file here.
  const parsed: Parsed = buildParser(bareFlags(argv), (chosen) => (command = chosen))
    .config({ ...sources.file.options, ...sources.env.options })
    .parseSync();
  if (parsed['help'] === true) return { kind: 'help', text: helpText() };
  if (parsed['version'] === true) return { kind: 'version' };
  // `check` takes the same options and positionals as serving, and is only ever the first word (as before yargs
  // commands: `cert` x check …` serves, `check cert …` is `cert`); `cert` has its own (butterfly's flags mean it).
  if (command === 'check' && argv[0] !== 'check') command = 'run';
  const positionals = parsed._.map(String).slice(command === 'check' ? 1 : 0);
  if (command === 'check' && positionals[0] === 'cert') command = 'cert';
  const butterfly = get(parsed, 'generateCerts') === true || get(parsed, 'generateUserPkcs') !== undefined;
  if (command === 'cert' || butterfly) return { kind: 'cert', args: certArgs(parsed, positionals) };
  refuseCertOptions(parsed);
  requireValues(parsed, (_, spec) => spec.command !== 'cert');
  const notices: string[] = [...sources.notices];
  for (const [name, spec] of OPTION_ENTRIES) {
    if (spec.ignored === true && parsed[name] === true)
      notices.push(`--${name} is accepted for websockify compatibility and ignored`);
  }
  return { kind: command === 'check' ? 'check' : 'run', notices, args: cliArgsOf(parsed, positionals, sources) };
}

/** The serving options `wsproxy cert …` reads too. */
const CERT_READS: readonly OptionKey[] = ['stateDir', 'web'];

function certArgs(parsed: Parsed, positionals: readonly string[]): CertArgs {
  const reads = new Set(CERT_READS.map(optionName));
  requireValues(parsed, (name, spec) => spec.command === 'cert' || reads.has(name));
  const butterflyUser = str(get(parsed, 'generateUserPkcs'));
  const [action, ...names] =
    butterflyUser !== undefined
      ? ['user', butterflyUser, ...positionals]
      : get(parsed, 'generateCerts') === true
        ? ['init', ...positionals]
        : positionals.slice(1);
  return {
    action,
    names,
    hosts: ((get(parsed, 'host') as unknown[] | undefined) ?? []).map(String),
    days: str(get(parsed, 'days')),
    certDir: str(get(parsed, 'certDir')),
    stateDir: str(get(parsed, 'stateDir')),
    web: str(get(parsed, 'web')),
    p12PasswordFile: str(get(parsed, 'p12PasswordFile')),
    p12Compat: get(parsed, 'p12Compat') === true,
  };
}

/** The help text. */
export function helpText(): string {
  let text = '';
  buildParser([]).showHelp((s: string) => {
    text = s;
  });
  return text;
}
