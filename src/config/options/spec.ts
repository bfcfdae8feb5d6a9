/** The shape of one option-table entry (docs/architecture.md §5, "The option table"). */

/** The help sections, in the order `--help` and docs/options.md show them (first use decides). */
export type OptionGroup =
  | 'TLS'
  | 'HTTP'
  | 'WebSocket'
  | 'Limits'
  | 'Tokens'
  | 'Auth'
  | 'General'
  | 'Listening'
  | 'Operations'
  | 'Certificates'
  | 'Target TLS'
  | 'Process';

/** One option. Numbers are `string` values too: `resolveConfig` says exactly what is wrong with `10s`. */
export interface OptionSpec {
  /** `boolean` a switch (`--no-X` turns off one on by default); `string` one value, the last given wins; `list`
   * repeatable, one value per flag (`greedy`: every word up to the next flag). */
  readonly kind: 'boolean' | 'string' | 'list';
  readonly greedy?: boolean;
  /** One letter (`-v`) or a second long name (`--client-ca`). */
  readonly alias?: string;
  /** What the parser fills in when no source gives the option. */
  readonly default?: string | boolean;
  /** Applied by `resolveConfig` when unset (it must tell "given" from "default"); shown in `--help`. */
  readonly fallback?: string;
  readonly fallbackNote?: string;
  readonly group: OptionGroup;
  /** The `--help` line. */
  readonly help: string;
  /** docs/options.md: the value's placeholder, the default when neither `default` nor `fallback` says it, the
   * longer explanation and how it differs from websockify. */
  readonly arg?: string;
  readonly shown?: string;
  readonly detail?: string;
  readonly websockify?: string;
  /** A reload applies it `live`, keeps it until a `restart`, or it is not part of a serving configuration (`none`). */
  readonly reload: 'live' | 'restart' | 'none';
  /** The reload report name(s) it feeds, when not its own name. */
  readonly reports?: string | readonly string[];
  /** Never echoed in errors, logs or reports. */
  readonly secret?: boolean;
  /** `cert`: only for `wsproxy cert …`; `any`: help, version and the config file itself (no `CliArgs` member). */
  readonly command?: 'cert' | 'any';
  /** `false`: no `WSPROXY_*` variable and no config-file key. */
  readonly env?: false;
  /** Always present in `CliArgs` (`resolveConfig` reads it without a fallback). */
  readonly required?: boolean;
  /** Accepted for websockify compatibility and ignored, with a notice (no `CliArgs` member). */
  readonly ignored?: boolean;
  /** An empty value is refused by the parser although there is a default. */
  readonly needsValue?: boolean;
  /** The values it takes; with `bare`, a flag not followed by one of them means `bare` (websockify's switch). */
  readonly values?: readonly string[];
  readonly bare?: string;
  /** A space/comma list in one value (the last flag wins), split by the parser into a list. */
  readonly splitList?: boolean;
}
