/**
 * A small structured logger: one line per event, text (`key=value`) or JSON. Per-connection children carry the
 * connection id, peer and scheme on every line. Values under secret-looking keys, and `token=`/`password=` query
 * parameters inside URLs, are redacted before anything is written.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, unknown>>;

/** What every module logs through. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` too. */
  child(fields: LogFields): Logger;
  /** Whether lines at `level` are written (to skip building costly fields). */
  enabled(level: LogLevel): boolean;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|key_?password/i;
const SECRET_QUERY = /([?&](?:token|password|pass|secret|key)=)[^&#\s]*/gi;

/** Replaces secret query parameter values in a URL or path with `***`. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, '$1***');
}

function redactValue(key: string, value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (SECRET_KEY.test(key) && !key.endsWith('_hash')) return '***';
  if (typeof value === 'string') return redactUrl(value);
  if (value instanceof Error) return redactUrl(value.message);
  return value;
}

function formatText(value: unknown): string {
  const s = typeof value === 'string' ? value : JSON.stringify(value) ?? 'undefined';
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}

/** Where log lines go: anything with a `write(string)`. */
export interface LogSink {
  write(line: string): unknown;
  /** Used instead of `write` when present, for sinks that map the level to a severity (syslog). */
  writeAt?(level: LogLevel, line: string): unknown;
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  level: LogLevel;
  format: 'text' | 'json';
  sink: LogSink;
  /** Clock, for tests that compare lines. */
  now?: () => Date;
}

/** A logger whose level and format can be changed later (a configuration reload); its children follow. */
export interface RootLogger extends Logger {
  /** Applies a new level and/or format to this logger and every child made from it, from the next line on. */
  configure(settings: { readonly level?: LogLevel; readonly format?: 'text' | 'json' }): void;
}

/** Builds a logger writing one line per call to `sink`. */
export function createLogger(options: LoggerOptions, bound: LogFields = {}): RootLogger {
  // One mutable copy shared by the logger and all its children, so a reload reaches every connection's child logger.
  const state = { level: options.level, format: options.format };
  const root = makeLogger(options, state, bound);
  return {
    ...root,
    configure(settings) {
      if (settings.level !== undefined) state.level = settings.level;
      if (settings.format !== undefined) state.format = settings.format;
    },
  };
}

function makeLogger(options: LoggerOptions, state: { level: LogLevel; format: 'text' | 'json' }, bound: LogFields): Logger {
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (LEVELS[level] < LEVELS[state.level]) return;
    const all: Record<string, unknown> = {};
    for (const [k, v] of Object.entries({ ...bound, ...fields })) {
      const r = redactValue(k, v);
      if (r !== undefined) all[k] = r;
    }
    const time = now().toISOString();
    let line: string;
    if (state.format === 'json') {
      line = JSON.stringify({ time, level, msg: redactUrl(msg), ...all }) + '\n';
    } else {
      const kv = Object.entries(all).map(([k, v]) => `${k}=${formatText(v)}`);
      line = [time, level.toUpperCase().padEnd(5), redactUrl(msg), ...kv].join(' ') + '\n';
    }
    if (options.sink.writeAt) options.sink.writeAt(level, line);
    else options.sink.write(line);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => makeLogger(options, state, { ...bound, ...fields }),
    enabled: (level) => LEVELS[level] >= LEVELS[state.level],
  };
}

/** A logger that drops everything (library default when the caller passes none). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
  enabled: () => false,
};

/** Told about every call on a {@link tapLogger}, whatever the level, with the bound and the line's fields merged. */
export type LogTap = (level: LogLevel, msg: string, fields: LogFields) => void;

/**
 * A logger that forwards to `base` and also tells `tap` about every line (children included). Metrics use it to
 * count refusals: every refusal and dropped connection is one log line with a stable `reason` (ARCHITECTURE.md §1),
 * so counting those lines keeps the log and the counters in agreement without a second hook at every call site.
 */
export function tapLogger(base: Logger, tap: LogTap, bound: LogFields = {}): Logger {
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    tap(level, msg, fields ? { ...bound, ...fields } : bound);
    base[level](msg, fields);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => tapLogger(base.child(fields), tap, { ...bound, ...fields }),
    enabled: (level) => base.enabled(level),
  };
}
