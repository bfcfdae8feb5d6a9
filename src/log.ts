/**
 * Logging on `pino`: one line per event, pino's JSON (`{"level":"info","time":"…","conn":7,…,"msg":"…"}`) or a
 * human text line (`2026-01-01T00:00:00.000Z INFO  msg key=value …`) rendered from that JSON record. A child's
 * bindings (conn id, peer, scheme, token hash, target) are redacted once, when the child is made. Call sites see
 * only the small {@link Logger} interface.
 *
 * Redaction happens inside pino, so nothing reaches a destination unredacted: values under secret-looking keys at
 * any depth (fields and bindings), `token=`/`password=` query parameters and `user:password@` in URLs inside any
 * string (fields and the message), and Error values (their redacted message only, no stack). pino's own `redact`
 * option takes fixed paths only; these rules match key names and text, so they run as pino's `formatters.log` and
 * message serializer, and on a child's bindings before pino serialises them.
 */
import { writeSync } from 'node:fs';
import pino, { type DestinationStream, type Logger as PinoLogger } from 'pino';
import { LogStalledError } from './errors.js';

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

const LEVELS: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50 };
// pino's numeric levels back to ours; pino's trace (10) and fatal (60) are never used here.
const LABELS: Readonly<Record<number, LogLevel>> = { 20: 'debug', 30: 'info', 40: 'warn', 50: 'error' };
const TEXT_LEVEL: Readonly<Record<string, string>> = { debug: 'DEBUG', info: 'INFO ', warn: 'WARN ', error: 'ERROR' };

// Keys whose values are never printed. `*_hash` keys (token_hash) are the safe stand-ins and stay.
const SECRET_KEY = /pass(word|phrase)?|secret|token|authori[sz]ation|cookie|credential|private_?key|api_?key/i;
// Inside any string: `?token=…`/`&password=…` query values, and the password of `scheme://user:password@host`.
const SECRET_TEXT =
  /([?&](?:token|password|pass|secret|key)=)[^&#\s]*|(\b[a-z][a-z0-9+.-]*:\/\/[^\s/?#@:]*:)[^\s/?#@]*@/gi;
// Deeper than this a value is replaced, not walked (and never printed unchecked); also ends reference cycles.
const MAX_DEPTH = 8;

/** Replaces secret query parameter values, and the password in `scheme://user:password@`, with `***`. */
export function redactUrl(url: string): string {
  // Most strings (ids, addresses, reason codes) have neither: skip the regular expression for them.
  if (!url.includes('=') && !url.includes('@')) return url;
  return url.replace(SECRET_TEXT, (_m, query: string | undefined, userinfo: string | undefined) =>
    query !== undefined ? `${query}***` : `${userinfo ?? ''}***@`,
  );
}

/** Whether values under `key` are secrets (printed as `***`). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !key.endsWith('_hash');
}

function redactValue(key: string, value: unknown, depth: number): unknown {
  if (value === undefined || value === null) return value;
  if (isSecretKey(key)) return '***';
  if (typeof value === 'string') return redactUrl(value);
  if (typeof value !== 'object') return value;
  if (value instanceof Error) return redactUrl(value.message);
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item: unknown, i) => {
      const r = redactValue('', item, depth + 1);
      if (r !== item) (copy ??= value.slice())[i] = r;
    });
    return copy ?? value;
  }
  // Date, URL, Buffer: what JSON would print, checked like any other value.
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return redactValue('', toJSON.call(value), depth + 1);
  return redactObject(value as Record<string, unknown>, depth + 1);
}

// Copies only when something changes: most lines hold plain ids, counts and reason codes.
function redactObject(fields: Readonly<Record<string, unknown>>, depth: number): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    const r = redactValue(key, value, depth);
    if (r !== value) (copy ??= { ...fields })[key] = r;
  }
  return copy ?? fields;
}

/** The fields with every secret replaced (see the module comment); the argument is never changed. */
export function redactFields(fields: LogFields): Record<string, unknown> {
  return redactObject(fields, 0);
}

const BARE = /^[^\s"=]+$/;

// A value of a parsed JSON line as it appears after `key=`: bare when it has no space, quote or `=`, else quoted.
function formatText(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  return BARE.test(s) ? s : JSON.stringify(s);
}

/** The text line for one of pino's JSON lines: `TIME LEVEL msg key=value …` (fields in pino's order). */
export function textLine(json: string): string {
  // pino wrote it: level, time and msg are strings (msg is the message argument of a Logger call).
  const record = JSON.parse(json) as Record<string, unknown> & { level: string; time: string; msg?: string };
  let line = `${record.time} ${TEXT_LEVEL[record.level] ?? 'INFO '} ${record.msg ?? ''}`;
  for (const key of Object.keys(record)) {
    if (key !== 'level' && key !== 'time' && key !== 'msg') line += ` ${key}=${formatText(record[key])}`;
  }
  return line + '\n';
}

/** Where log lines go: anything with a `write(string)`. */
export interface LogSink {
  write(line: string): unknown;
  /** Used instead of `write` when present, for sinks that map the level to a severity (syslog). */
  writeAt?(level: LogLevel, line: string): unknown;
}

// For a short synchronous wait when a non-blocking pipe is full (Atomics.wait blocks this thread only).
const SLEEP_CELL = new Int32Array(new SharedArrayBuffer(4));
/** How long one line may wait for a full pipe before lines are dropped instead (until the reader catches up). */
export const STALL_MS = 1_000;

/**
 * A sink writing each line to a file descriptor (2 for stderr, or an open `logFile`) with `writeSync` before the
 * log call returns: nothing is buffered, so nothing is lost at `process.exit` or a crash; lines keep their order with
 * other direct writes to the descriptor; and a line up to PIPE_BUF (4 KiB) is one write(2), so the lines of several
 * `workers` processes never interleave mid-line.
 *
 * Once Node has made `process.stderr`, a pipe on fd 2 is non-blocking: when the reader (journald, Docker) falls
 * behind, a write fails with EAGAIN, and the line waits in 1 ms steps for up to {@link STALL_MS}. A reader that takes
 * nothing for that long makes the sink drop whole lines (one try each, no waiting) until a line gets through again,
 * rather than stall the proxy or queue without bound (pino's SonicBoom in sync mode retries forever; its flushSync
 * spins forever on a descriptor that fails with anything but EAGAIN). EPIPE (nobody reads any more) ends the output
 * quietly; any other error goes to `onError`, and a write never throws.
 */
export function fdSink(fd: number, onError: (err: Error) => void = () => {}, stallMs = STALL_MS): LogSink {
  let stalled = false;
  let gone = false;
  return {
    write(line: string) {
      if (gone) return;
      let rest = Buffer.from(line, 'utf8');
      let deadline = stalled ? 0 : Date.now() + stallMs;
      while (rest.length > 0) {
        try {
          const n = writeSync(fd, rest);
          // Half a line is out: the rest must follow, whatever the state (else the next line joins it).
          if (n < rest.length && deadline === 0) deadline = Date.now() + stallMs;
          rest = rest.subarray(n);
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          if (e.code === 'EAGAIN' && Date.now() < deadline) {
            Atomics.wait(SLEEP_CELL, 0, 0, 1);
            continue;
          }
          if (e.code === 'EAGAIN') {
            if (!stalled)
              onError(new LogStalledError(`the log output was not read for ${stallMs} ms; dropping lines until it is`));
            stalled = true;
          } else if (e.code === 'EPIPE') gone = true;
          else onError(e);
          return;
        }
      }
      stalled = false;
    },
  };
}

// pino's `timestamp` option: the ISO time, formatted once per millisecond however many lines share it.
function isoTime(nowMs: () => number): () => string {
  let lastMs = NaN;
  let last = '';
  return () => {
    const ms = nowMs();
    if (ms !== lastMs) {
      lastMs = ms;
      last = `,"time":"${new Date(ms).toISOString()}"`;
    }
    return last;
  };
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  level: LogLevel;
  format: 'text' | 'json';
  sink: LogSink;
  /** Clock, for tests that compare lines. */
  now?: () => Date;
}

type MetadataDestination = DestinationStream & { [key: symbol]: boolean; lastLevel: number };

// pino writes each finished JSON line here; `lastLevel` is set by pino just before (destination metadata), which
// gives syslog its severity without parsing the line. The format is read per line: a reload may change it.
function destinationFor(core: { readonly format: LoggerOptions['format'] }, sink: LogSink): MetadataDestination {
  const writeAt = sink.writeAt?.bind(sink);
  return {
    [Symbol.for('pino.metadata')]: true,
    lastLevel: LEVELS.info,
    write(json: string) {
      const line = core.format === 'json' ? json : textLine(json);
      if (writeAt) writeAt(LABELS[this.lastLevel] ?? 'info', line);
      else sink.write(line);
    },
  };
}

const NO_FIELDS: LogFields = Object.freeze({});

/**
 * What every logger of one tree shares, made once by {@link createLogger}: the one pino instance, and the level
 * threshold and format, which a configuration reload changes for the whole tree at once (every connection's child
 * included). pino itself stays at `debug` and the threshold is checked here, because a pino child copies its
 * parent's level when made and would not follow a later change.
 */
interface LoggerCore {
  readonly pino: PinoLogger;
  threshold: number;
  format: 'text' | 'json';
}

/** A logger whose level and format can be changed later (a configuration reload); its children follow. */
export interface RootLogger extends Logger {
  /** Applies a new level and/or format to this logger and every child made from it, from the next line on. */
  configure(settings: { readonly level?: LogLevel; readonly format?: 'text' | 'json' }): void;
}

/**
 * The loggers below are classes with their methods on the prototype, not objects of closures: every connection and
 * session has its own child loggers, and a child is then one small object plus its (already redacted) bound fields
 * (the closures cost 1.7 KiB per idle session; issue #6). This base gives them the four level methods.
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

/** One logger of a {@link createLogger} tree. `bound` is redacted already (when the child was made). */
class LineLogger extends LevelLogger {
  // The pino child with `bound` serialised once, made at the first line written: most connections log nothing while
  // they are open, so an idle session holds only this object and its fields (issue #6), not a pino child.
  private pinoChild: PinoLogger | undefined;

  constructor(
    protected readonly core: LoggerCore,
    private readonly bound: LogFields,
  ) {
    super();
  }

  child(fields: LogFields): Logger {
    // Merged, not nested: a key bound again replaces the old value instead of appearing twice in the line, and every
    // pino child is a child of the root (a chain of nested pino children is several times slower).
    return new LineLogger(this.core, { ...this.bound, ...redactFields(fields) });
  }
  enabled(level: LogLevel): boolean {
    return LEVELS[level] >= this.core.threshold;
  }

  protected emit(level: LogLevel, msg: string, fields?: LogFields): void {
    if (LEVELS[level] < this.core.threshold) return;
    const p = (this.pinoChild ??= this.bound === NO_FIELDS ? this.core.pino : this.core.pino.child(this.bound));
    p[level](fields ?? NO_FIELDS, msg);
  }
}

/** The root of a tree: the one logger that can be reconfigured. */
class RootLineLogger extends LineLogger implements RootLogger {
  configure(settings: { readonly level?: LogLevel; readonly format?: 'text' | 'json' }): void {
    if (settings.level !== undefined) this.core.threshold = LEVELS[settings.level];
    if (settings.format !== undefined) this.core.format = settings.format;
  }
}

/** Builds a logger writing one line per call to `sink`; `bound` fields are on every line. */
export function createLogger(options: LoggerOptions, bound: LogFields = {}): RootLogger {
  const now = options.now;
  const core: { pino?: PinoLogger; threshold: number; format: 'text' | 'json' } = {
    threshold: LEVELS[options.level],
    format: options.format,
  };
  core.pino = pino(
    {
      level: 'debug',
      // No pid/hostname on every line: journald, Docker and Kubernetes add them; `workers` lines carry `worker`.
      base: null,
      timestamp: isoTime(now ? () => now().getTime() : Date.now),
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => redactFields(fields),
      },
      // The message is redacted like any string field. (An Error field never reaches pino's `err` serializer, which
      // would print its stack: formatters.log has already replaced it with its redacted message.)
      serializers: { msg: (msg: unknown) => (typeof msg === 'string' ? redactUrl(msg) : msg) },
    },
    destinationFor(core, options.sink),
  );
  return new RootLineLogger(core as LoggerCore, Object.keys(bound).length > 0 ? redactFields(bound) : NO_FIELDS);
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
