/**
 * The two option sources besides argv: a config file (YAML or JSON) and `WSPROXY_*` environment variables. Both use
 * the names and kinds of the option table (`config/options.ts`), so there is one schema: `cert: self.pem` in the
 * file, `WSPROXY_CERT=self.pem` in the environment, the flag on the command line. Precedence: flags > environment >
 * file > defaults. Values are never echoed in errors (a file may hold a secret).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { SourceError } from './errors.js';
import { envName, flag, OPTION_NAMES, optionName, optionSpec, type OptionKey } from './config/options/index.js';

/** What an option source contributes: flag values by long name, and the positionals if it names them. */
export interface SourceValues {
  readonly options: Record<string, string | boolean | string[]>;
  readonly positionals: readonly string[] | undefined;
}

/** Option kinds the sources need to know to convert values. */
export interface OptionKinds {
  readonly booleans: ReadonlySet<string>;
  readonly arrays: ReadonlySet<string>;
  readonly all: ReadonlySet<string>;
}

/**
 * The options a config file or `WSPROXY_*` variable may set, from the table: all but help, version and the config
 * file itself.
 */
export const SOURCE_KINDS: OptionKinds = (() => {
  const names = OPTION_NAMES.filter((name) => optionSpec(name)?.command !== 'any');
  const kind = (name: string) => optionSpec(name)?.kind;
  return {
    all: new Set(names),
    booleans: new Set(names.filter((name) => kind(name) === 'boolean')),
    arrays: new Set(names.filter((name) => kind(name) === 'list')),
  };
})();

/** The option naming the config file: a file cannot include another, and its variable is read by `cli.ts`. */
const CONFIG: OptionKey = 'config';
const CONFIG_FLAG = flag(CONFIG);

/** Environment variables with the prefix that are not options and are read elsewhere. */
const ENV_NOT_OPTIONS = new Set([
  'WSPROXY_DEBUG', // stack traces for internal errors
  'WSPROXY_HEALTH_PORT', // the Docker image's health check
  envName(CONFIG),
  'WSPROXY_LISTEN',
  'WSPROXY_TARGET',
  'WSPROXY_DAEMON_CHILD', // set by -D for the detached child
  'WSPROXY_P12_PASSWORD', // wsproxy cert user: the .p12 password
]);

function parseBoolean(raw: string, where: string): boolean {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off|)$/i.test(raw)) return false;
  throw new SourceError(`${where}: expected true or false`);
}

/**
 * Reads `WSPROXY_*` variables for known options. Unknown `WSPROXY_*` names are returned as notices (a typo should
 * not pass silently, but must not stop a daemon that shares its environment with other tools either).
 */
export function optionsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  kinds: OptionKinds = SOURCE_KINDS,
): SourceValues & { notices: string[] } {
  const options: Record<string, string | boolean | string[]> = {};
  const notices: string[] = [];
  const byEnv = new Map([...kinds.all].map((o) => [envName(o), o]));
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('WSPROXY_') || raw === undefined || ENV_NOT_OPTIONS.has(name)) continue;
    const option = byEnv.get(name);
    if (option === undefined) {
      notices.push(
        `environment variable ${name} is not a wsproxy option and is ignored; see 'wsproxy ${flag('help')}'`,
      );
      continue;
    }
    if (kinds.booleans.has(option)) options[option] = parseBoolean(raw.trim(), name);
    // One element, split later by resolveConfig with the option's own rules (commas are port lists in target ranges).
    else if (kinds.arrays.has(option)) options[option] = [raw];
    else options[option] = raw;
  }
  const listen = env['WSPROXY_LISTEN'];
  const target = env['WSPROXY_TARGET'];
  const positionals = positionalsOf(listen, target);
  return { options, positionals, notices };
}

/** Parses a config file's text (YAML, of which JSON is a subset) into option values. `file` names it in errors. */
export function optionsFromText(text: string, file: string, kinds: OptionKinds = SOURCE_KINDS): SourceValues {
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: false });
  } catch (err) {
    // The YAML error names a line and column, never a value.
    const first = ((err as Error).message.split('\n')[0] ?? 'syntax error').slice(0, 200);
    throw new SourceError(`${CONFIG_FLAG} ${file}: not valid YAML or JSON (${first})`, 'syntax');
  }
  if (doc === null || doc === undefined) return { options: {}, positionals: undefined };
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new SourceError(
      `${CONFIG_FLAG} ${file}: expected a mapping of option names to values (cert: self.pem)`,
      'syntax',
    );
  }
  const options: Record<string, string | boolean | string[]> = {};
  let listen: string | undefined;
  let target: string | undefined;
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    const option = optionName(key);
    const where = `${CONFIG_FLAG} ${file}: '${key}'`;
    const scalar = (v: unknown): string => {
      if (typeof v === 'string') return v;
      if (typeof v === 'number' && Number.isFinite(v)) return String(v);
      if (typeof v === 'boolean') return String(v);
      throw new SourceError(`${where} must be a string or a number`);
    };
    if (option === 'listen') listen = scalar(value);
    else if (option === 'target') target = scalar(value);
    else if (option === CONFIG) throw new SourceError(`${where}: a config file cannot include another`);
    else if (!kinds.all.has(option))
      throw new SourceError(`${where} is not a wsproxy option; see 'wsproxy ${flag('help')}' for the names`);
    else if (kinds.booleans.has(option)) {
      if (typeof value === 'boolean') options[option] = value;
      else options[option] = parseBoolean(scalar(value), where);
    } else if (kinds.arrays.has(option)) {
      options[option] = Array.isArray(value) ? value.map(scalar) : [scalar(value)];
    } else {
      if (Array.isArray(value)) throw new SourceError(`${where} takes one value, not a list`);
      options[option] = scalar(value);
    }
  }
  const positionals = positionalsOf(listen, target);
  return { options, positionals };
}

/** Reads and parses a config file. */
export function optionsFromFile(file: string, kinds: OptionKinds = SOURCE_KINDS): SourceValues {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new SourceError(`${CONFIG_FLAG} ${file}: cannot read it (${code}); check the path`, 'unreadable');
  }
  return optionsFromText(text, file, kinds);
}

/** Finds the config file flag (`FLAG FILE` or `FLAG=FILE`) in argv before the full parse (the file feeds it). */
export function configFileFromArgv(argv: readonly string[]): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === CONFIG_FLAG) found = argv[i + 1];
    else if (a.startsWith(`${CONFIG_FLAG}=`)) found = a.slice(CONFIG_FLAG.length + 1);
  }
  return found;
}

/** The listen address and target given by name (env or file), as the positionals they stand for. */
function positionalsOf(listen: string | undefined, target: string | undefined): string[] | undefined {
  if (listen !== undefined) return target !== undefined ? [listen, target] : [listen];
  return target !== undefined ? [target] : undefined;
}
