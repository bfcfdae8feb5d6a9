/**
 * Pure value parsers for numbers, sizes, times, rates, lists and fixed choices. Each takes the option's flag (`name`)
 * and throws a one-line ConfigError naming it, so a message reads the same whichever option the value came from.
 */
import { ConfigError } from '../errors.js';
import { parseRate, type Rate } from '../policy/rate-limit.js';
import { flag } from './options/index.js';

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** Parses a byte size: `65536`, `64KiB`, `16m`, `1G` (binary units). */
export function parseSize(text: string, name: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? SIZE_UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || unit === undefined)
    throw new ConfigError(name, `${name}: '${text}' is not a size; write e.g. 65536, 64KiB or 16MiB`);
  const bytes = Math.floor(Number(m[1]) * unit);
  if (bytes < 1) throw new ConfigError(name, `${name}: the size must be at least 1 byte`);
  if (!Number.isSafeInteger(bytes)) throw new ConfigError(name, `${name}: '${text}' is too large`);
  return bytes;
}

// Node timers hold at most 2^31-1 ms (about 24.8 days); a longer delay fires after 1 ms instead.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Parses seconds (fractions allowed, at least 1 ms, at most ~24 days) into milliseconds; `0` only where `allowZero`. */
export function parseSeconds(text: string, name: string, allowZero = false): number {
  const n = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n) || (n === 0 && !allowZero)) {
    throw new ConfigError(name, `${name}: '${text}' is not a ${allowZero ? '' : 'positive '}number of seconds`);
  }
  const ms = Math.round(n * 1000);
  if (n > 0 && ms < 1)
    throw new ConfigError(name, `${name}: '${text}' is shorter than a millisecond; give at least 0.001 seconds`);
  if (ms > MAX_TIMER_MS)
    throw new ConfigError(
      name,
      `${name}: '${text}' is too long; give at most ${Math.floor(MAX_TIMER_MS / 1000)} seconds`,
    );
  return ms;
}

/**
 * The few limits where 0 cannot mean "no limit" (every other cap and timeout takes 0 that way): says why, in the one
 * line a CLI error gets.
 */
export function notZero(text: string, name: string, why: string): string {
  if (/^\s*0*(\.0*)?\s*[a-z]*\s*$/i.test(text) && /\d/.test(text)) {
    throw new ConfigError(name, `${name}: 0 is not allowed here (${why}); give a positive value`);
  }
  return text;
}

/** Parses a cap: a whole number, `0` meaning no limit (Infinity), as users of other servers expect. */
export function parseCount(text: string, name: string): number {
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new ConfigError(name, `${name}: '${text}' is not a whole number (0 = no limit)`);
  }
  const n = Number(text);
  return n === 0 ? Infinity : n;
}

/** A rate option: `10/s`, `600/min`; empty or 0 (any unit) = no limit. */
export function parseRateOption(text: string | undefined, name: string): Rate | undefined {
  if (text === undefined || text.trim() === '' || /^\s*0+(\.0*)?\s*(\/.*)?$/.test(text)) return undefined;
  const rate = parseRate(text);
  if (!rate) throw new ConfigError(name, `${name}: '${text}' is not a rate; write e.g. 10/s or 600/min (0 = no limit)`);
  return rate;
}

/** One of a fixed set of words; `listed` is what the message offers when it differs from what is accepted here. */
export function oneOf<T extends string>(
  value: string,
  allowed: readonly T[],
  name: string,
  listed: readonly string[] = allowed,
): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new ConfigError(name, `${name}: '${value}' is not one of ${listed.join(', ')}`);
  return value as T;
}

// List options take one argument (so they cannot swallow the positionals after them); several entries go in it
// separated by spaces (or commas, where an entry cannot contain one).
export function splitList(values: readonly string[] | undefined, separator: RegExp = /[\s,]+/): string[] {
  return (values ?? []).flatMap((v) => v.split(separator)).filter((v) => v.length > 0);
}

/**
 * The workers option: a count from 1 to 64, or `auto` for one per core (Node's `availableParallelism`, which honours
 * CPU affinity and cgroup limits).
 */
export function resolveWorkers(value: string | undefined, cores: number): number {
  if (value === undefined || value === '') return 1;
  if (value === 'auto') return Math.max(1, cores);
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 64) {
    const name = flag('workers');
    throw new ConfigError(name, `${name}: '${value}' is not a number of processes from 1 to 64 or 'auto'`);
  }
  return Number(value);
}
