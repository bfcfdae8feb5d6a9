/**
 * The per-connection error boundary (issue #12): an exception thrown while serving one connection ends that
 * connection and nothing else. Before the upgrade the client gets 500, after it close 1011; either way the reason is
 * `INTERNAL_ERROR`, with one error line (the stack only at debug level). Every place where the event loop calls into
 * wsproxy for one connection (listeners, request and upgrade handlers, socket and WebSocket events, plugin calls)
 * goes through these helpers. A bug outside any connection is not caught here: it still ends the process loudly.
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { reject } from './http/reject.js';
import { silentLogger, type LogFields, type Logger } from './log.js';

/** The first line of what was thrown, never throwing itself (a plugin may throw anything), with `secret` hidden. */
export function describeThrown(err: unknown, secret?: string): string {
  let text: string;
  try {
    text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  } catch {
    text = 'an error that cannot be printed';
  }
  return hide((text.split('\n')[0] ?? '').slice(0, 300), secret);
}

function hide(text: string, secret: string | undefined): string {
  return secret !== undefined && secret.length > 0 ? text.split(secret).join('***') : text;
}

function stackOf(err: unknown, secret: string | undefined): string {
  try {
    return hide(err instanceof Error ? (err.stack ?? '') : '', secret);
  } catch {
    return '';
  }
}

/** Where it happened and what to keep out of the line. */
export interface FailureContext {
  readonly log: Logger;
  /** The entry point, for the line (`upgrade`, `request`, `relay`, `secureConnection`, …). */
  readonly where: string;
  /** A token or password the error text might hold: shown as ***. */
  readonly secret?: string | undefined;
  readonly fields?: LogFields;
}

/** Logs the one error line of an internal error (and its stack at debug level). */
export function logInternalError(err: unknown, ctx: FailureContext, extra: LogFields = {}): void {
  ctx.log.error('internal error; connection closed', {
    reason: 'INTERNAL_ERROR',
    where: ctx.where,
    error: describeThrown(err, ctx.secret),
    ...ctx.fields,
    ...extra,
  });
  if (ctx.log.enabled('debug'))
    ctx.log.debug('internal error stack', { where: ctx.where, stack: stackOf(err, ctx.secret) });
}

/**
 * Ends a connection that has no WebSocket yet after an internal error: 500 `INTERNAL_ERROR` if an answer can still
 * be written (a `ServerResponse` whose head is not sent, or a raw socket before the 101), else it is just closed.
 */
export function failConnection(to: Duplex | ServerResponse | undefined, err: unknown, ctx: FailureContext): void {
  logInternalError(err, ctx, to === undefined ? {} : { status: 500 });
  if (to === undefined) return;
  try {
    // The line above is the one line; reject() must not log a second, nor count it as a refused handshake.
    reject(to, 'INTERNAL_ERROR', { log: silentLogger, counted: false });
  } catch {
    to.destroy();
  }
}

/** A synchronous listener that hands whatever it throws to `onError` instead of the event loop. */
export function guard<A extends unknown[]>(
  fn: (...args: A) => void,
  onError: (err: unknown, ...args: A) => void,
): (...args: A) => void {
  return (...args: A): void => {
    try {
      fn(...args);
    } catch (err) {
      onError(err, ...args);
    }
  };
}

/** An async listener: a synchronous throw and a rejection both go to `onError`. */
export function guardAsync<A extends unknown[]>(
  fn: (...args: A) => Promise<unknown>,
  onError: (err: unknown, ...args: A) => void,
): (...args: A) => void {
  return (...args: A): void => {
    try {
      fn(...args).catch((err: unknown) => onError(err, ...args));
    } catch (err) {
      onError(err, ...args);
    }
  };
}
