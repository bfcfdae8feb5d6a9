/**
 * A small structured logger: one line per event, text (`key=value`) or JSON. Per-connection children carry the
 * connection id, peer and scheme on every line. Values under secret-looking keys, and `token=`/`password=` query
 * parameters inside URLs, are redacted before anything is written.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, unknown>>;

/** What every module logs through. Call its methods on the logger (`log.info(…)`): they are not bound to it. */
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

const defaultNow = (): Date => new Date();

/**
 * What every logger of one tree shares, made once by {@link createLogger}: the sink and clock, and the level threshold
 * and format, which a configuration reload changes for the whole tree at once (every connection's child included).
 */
interface LoggerCore {
  readonly options: LoggerOptions;
  threshold: number;
  format: 'text' | 'json';
  readonly now: () => Date;
}

/** A logger whose level and format can be changed later (a configuration reload); its children follow. */
export interface RootLogger extends Logger {
  /** Applies a new level and/or format to this logger and every child made from it, from the next line on. */
  configure(settings: { readonly level?: LogLevel; readonly format?: 'text' | 'json' }): void;
}

/**
 * The loggers below are classes with their methods on the prototype, not objects of closures: every connection and
 * session has its own child loggers, and a child is then one small object plus its bound fields (the closures cost
 * 1.7 KiB per idle session; issue #6). This base gives both the four level methods.
 */
abstract class LevelLogger implements Logger {
  debug(msg: string, fields?: LogFields): void {
    this.emit('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.emit('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.emit('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.emit('error', msg, fields);
  }
  abstract child(fields: LogFields): Logger;
  abstract enabled(level: LogLevel): boolean;
  protected abstract emit(level: LogLevel, msg: string, fields?: LogFields): void;
}

/** One logger of a {@link createLogger} tree. */
class LineLogger extends LevelLogger {
  constructor(
    private readonly core: LoggerCore,
    private readonly bound: LogFields,
  ) {
    super();
  }

  child(fields: LogFields): Logger {
    return new LineLogger(this.core, { ...this.bound, ...fields });
  }
  enabled(level: LogLevel): boolean {
    return LEVELS[level] >= this.core.threshold;
  }

  protected emit(level: LogLevel, msg: string, fields?: LogFields): void {
    const { options, threshold, format } = this.core;
    if (LEVELS[level] < threshold) return;
    const all: Record<string, unknown> = {};
    for (const [k, v] of Object.entries({ ...this.bound, ...fields })) {
      const r = redactValue(k, v);
      if (r !== undefined) all[k] = r;
    }
    const time = this.core.now().toISOString();
    let line: string;
    if (format === 'json') {
      line = JSON.stringify({ time, level, msg: redactUrl(msg), ...all }) + '\n';
    } else {
      const kv = Object.entries(all).map(([k, v]) => `${k}=${formatText(v)}`);
      line = [time, level.toUpperCase().padEnd(5), redactUrl(msg), ...kv].join(' ') + '\n';
    }
    if (options.sink.writeAt) options.sink.writeAt(level, line);
    else options.sink.write(line);
  }
}

/** The root of a tree: the one logger that can be reconfigured. */
class RootLineLogger extends LineLogger implements RootLogger {
  constructor(private readonly shared: LoggerCore, bound: LogFields) {
    super(shared, bound);
  }
  configure(settings: { readonly level?: LogLevel; readonly format?: 'text' | 'json' }): void {
    if (settings.level !== undefined) this.shared.threshold = LEVELS[settings.level];
    if (settings.format !== undefined) this.shared.format = settings.format;
  }
}

/** Builds a logger writing one line per call to `sink`. */
export function createLogger(options: LoggerOptions, bound: LogFields = {}): RootLogger {
  return new RootLineLogger({ options, threshold: LEVELS[options.level], format: options.format, now: options.now ?? defaultNow }, bound);
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
  return new TapLogger(base, tap, bound);
}

/** {@link tapLogger}'s logger: a class for the same reason as {@link LineLogger} (one per connection with metrics on). */
class TapLogger extends LevelLogger {
  constructor(
    private readonly base: Logger,
    private readonly tap: LogTap,
    private readonly bound: LogFields,
  ) {
    super();
  }

  child(fields: LogFields): Logger {
    return new TapLogger(this.base.child(fields), this.tap, { ...this.bound, ...fields });
  }
  enabled(level: LogLevel): boolean {
    return this.base.enabled(level);
  }

  protected emit(level: LogLevel, msg: string, fields?: LogFields): void {
    this.tap(level, msg, fields ? { ...this.bound, ...fields } : this.bound);
    this.base[level](msg, fields);
  }
}
