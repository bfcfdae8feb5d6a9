/** Resource limits and deadlines: times in milliseconds, sizes in bytes, 0 = no limit where a limit may be absent. */
import { ConfigError } from '../errors.js';
import { DEFAULTS, type CliArgs } from './options/index.js';
import { flag } from './options/index.js';
import { notZero, parseCount, parseSeconds, parseSize } from './parse.js';
import type { Limits } from './types.js';

/** The buffered-total bound a configuration without one gets (see below). */
export function defaultMaxBufferedTotal(maxMessageBytes: number): number {
  return Math.max(parseSize(DEFAULTS.maxBufferedTotal, flag('maxBufferedTotal')), maxMessageBytes);
}

/**
 * The bound on unfinished messages of all sessions: 64 MiB by default (four largest messages in flight at the default
 * message size; noVNC sends messages of a few bytes), raised to the largest message when that is larger. Given, it
 * must hold one largest message, or no such message could ever arrive. 0 = no limit.
 */
function maxBufferedTotal(args: CliArgs): number {
  const maxMessage = parseSize(args.maxMessageSize, flag('maxMessageSize'));
  if (args.maxBufferedTotal === undefined) return defaultMaxBufferedTotal(maxMessage);
  if (/^\s*0+\s*$/.test(args.maxBufferedTotal)) return 0;
  const name = flag('maxBufferedTotal');
  const total = parseSize(args.maxBufferedTotal, name);
  if (total < maxMessage) {
    const message = flag('maxMessageSize');
    throw new ConfigError(
      name,
      `${name} (${args.maxBufferedTotal}) is below ${message} (${args.maxMessageSize}): no message of the largest size could arrive; raise it, lower ${message}, or use 0 for no limit`,
    );
  }
  return total;
}

/** A deadline that must exist, in milliseconds. */
function deadline(text: string, key: 'handshakeTimeout' | 'connectTimeout', why: string): number {
  return parseSeconds(notZero(text, flag(key), why), flag(key));
}

export function resolveLimits(args: CliArgs): Limits {
  return {
    handshakeTimeoutMs: deadline(
      args.handshakeTimeout,
      'handshakeTimeout',
      'without a deadline an idle client holds its connection slot forever',
    ),
    connectTimeoutMs: deadline(
      args.connectTimeout,
      'connectTimeout',
      'without a deadline a silent target holds the handshake forever',
    ),
    maxMessageBytes: parseSize(
      notZero(args.maxMessageSize, flag('maxMessageSize'), 'one unbounded message could take all memory'),
      flag('maxMessageSize'),
    ),
    maxBufferedTotal: maxBufferedTotal(args),
    maxConnections: parseCount(args.maxConnections, flag('maxConnections')),
    maxConnectionsPerIp: parseCount(args.maxConnectionsPerIp, flag('maxConnectionsPerIp')),
    highWaterMark: parseSize(args.highWaterMark, flag('highWaterMark')),
    shutdownTimeoutMs: parseSeconds(args.shutdownTimeout, flag('shutdownTimeout'), true),
    heartbeatMs: parseSeconds(args.heartbeat, flag('heartbeat'), true),
  };
}
