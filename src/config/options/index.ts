/**
 * Every command-line option, defined once: its flag and aliases, value kind, default, help text and group, the
 * `WSPROXY_*` variable and config-file key (both derived from the name), its reload class and the reload report it
 * belongs to, whether it is a secret, whether it belongs to `wsproxy cert`, and its docs/options.md notes. The yargs
 * parser, `CliArgs`, `DEFAULTS`, the env/file sources, the reload classes and docs/options.md are derived from it.
 * A leaf (docs/architecture.md §3): the long option names are spelled out in this folder's table parts (serving.ts,
 * general.ts, tls-process.ts) and nowhere else in src/; this module joins them and derives the rest.
 */
import { GENERAL_OPTIONS } from './general.js';
import { SERVING_OPTIONS } from './serving.js';
import type { OptionSpec } from './spec.js';
import { TLS_AND_PROCESS_OPTIONS } from './tls-process.js';

export type { OptionGroup, OptionSpec } from './spec.js';

/** The table, in `--help` order. */
export const OPTION_TABLE = { ...SERVING_OPTIONS, ...GENERAL_OPTIONS, ...TLS_AND_PROCESS_OPTIONS } as const;

type Table = typeof OPTION_TABLE;
/** A long option name (`target-ca`). */
export type OptionName = keyof Table;
type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
/** An option's `CliArgs` key (`targetCa`). */
export type OptionKey = Camel<OptionName>;

/** Every option with its entry, in table order. */
export const OPTION_ENTRIES: readonly (readonly [string, OptionSpec])[] = Object.entries(OPTION_TABLE);

/** Every long option name, in table order. */
export const OPTION_NAMES: readonly string[] = Object.keys(OPTION_TABLE);

/** The entry of an option name (`undefined` for a name that is none). */
export function optionSpec(name: string): OptionSpec | undefined {
  return Object.hasOwn(OPTION_TABLE, name) ? (OPTION_TABLE as Record<string, OptionSpec>)[name] : undefined;
}

/** The `--help` line: the help text, and the default `resolveConfig` applies when it is not the parser's. */
export function helpLine(spec: OptionSpec): string {
  if (spec.fallback === undefined) return spec.help;
  const note = spec.fallbackNote === undefined ? '' : `, ${spec.fallbackNote}`;
  return `${spec.help} [default: ${spec.fallback}${note}]`;
}

/** `tokenPlugin`, `token_plugin` or `tls13Ciphers` → `token-plugin`, `tls13-ciphers`: the option name of a key. */
export function optionName(key: string): string {
  return key
    .replace(/_/g, '-')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();
}

/** `token-plugin` → `tokenPlugin`: the `CliArgs` key of an option name. */
export function optionKey(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The flag as messages spell it: `flag('targetCa')` is `--target-ca`. */
export function flag(key: OptionKey): string {
  return `--${optionName(key)}`;
}

/** `token-plugin` → `WSPROXY_TOKEN_PLUGIN` (by rule; `undefined` for help and version, which have none). */
export function envName(name: string): string | undefined {
  if (optionSpec(name)?.env === false) return undefined;
  return `WSPROXY_${name.toUpperCase().replace(/-/g, '_')}`;
}

/** The reload report names an option feeds (its own name unless the table says otherwise; none for `none`). */
export function reportsOf(name: string): readonly string[] {
  const spec = optionSpec(name);
  if (spec === undefined || spec.reload === 'none') return [];
  if (spec.reports === undefined) return [name];
  return typeof spec.reports === 'string' ? [spec.reports] : spec.reports;
}

type ReportOf<K extends OptionName> = Table[K] extends { reload: 'none' }
  ? never
  : Table[K] extends { reports: infer R extends string | readonly string[] }
    ? R extends readonly string[]
      ? R[number]
      : R
    : K;
/** A reload report name's camelCase key (`allowOrigin`, `listen`): one per name the reloadable options feed. */
export type ReportKey = Camel<{ [K in OptionName]: ReportOf<K> }[OptionName]>;

// `CliArgs`: one member per serving option (camelCase), typed by its kind, plus the positionals and the `--` command.
type ArgName = { [K in OptionName]: Table[K] extends { command: string } | { ignored: true } ? never : K }[OptionName];
type ValueOf<E> = E extends { splitList: true }
  ? readonly string[]
  : E extends { kind: 'boolean' }
    ? boolean
    : E extends { kind: 'list' }
      ? readonly string[]
      : E extends { default: string }
        ? string
        : string | undefined;
type RequiredArg = { [K in ArgName]: Table[K] extends { required: true } ? K : never }[ArgName];
type Flatten<T> = { [K in keyof T]: T[K] };

/** Values as the command line delivers them; `cli.ts` produces this, `resolveConfig` checks it. */
export type CliArgs = Flatten<
  {
    readonly positionals: readonly string[];
    /** Everything after `--`: the program to wrap. */
    readonly wrapCommand?: readonly string[];
  } & { readonly [K in RequiredArg as Camel<K>]: ValueOf<Table[K]> } & {
    readonly [K in Exclude<ArgName, RequiredArg> as Camel<K>]?: ValueOf<Table[K]> | undefined;
  }
>;

/** An option's entry by its `CliArgs` key (so the long names stay in the table parts). */
const entry = (key: OptionKey): OptionSpec =>
  (OPTION_TABLE as Record<string, OptionSpec>)[optionName(key)] as OptionSpec;
const seconds = (key: OptionKey): number => Number(entry(key).default);
const text = (value: string | boolean | undefined): string => String(value);

/** Defaults shared by the CLI and code that builds `Config` directly (from the table: each is written once). */
export const DEFAULTS = {
  cert: text(entry('cert').fallback),
  handshakeTimeoutSeconds: seconds('handshakeTimeout'),
  connectTimeoutSeconds: seconds('connectTimeout'),
  maxMessageSize: text(entry('maxMessageSize').default),
  maxBufferedTotal: text(entry('maxBufferedTotal').fallback),
  maxConnections: seconds('maxConnections'),
  maxConnectionsPerIp: seconds('maxConnectionsPerIp'),
  highWaterMark: text(entry('highWaterMark').default),
  shutdownTimeoutSeconds: seconds('shutdownTimeout'),
  heartbeatSeconds: seconds('heartbeat'),
  drainTimeoutSeconds: seconds('drainTimeout'),
  sessionTicketRotateSeconds: seconds('sessionTicketRotate'),
  authFailureLimit: text(entry('authFailureLimit').default),
} as const;
