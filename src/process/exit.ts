/**
 * The fatal path of the process: exit codes, the one-line error on stderr (`wsproxy: …`), the clean-ups it runs
 * first, and the handler for a bug that escapes everything else.
 */
import { fdSink, redactUrl } from '../log.js';
import { reportFailure } from './daemon.js';

/** A start step failed (listen, daemon, workers) or the shutdown did. */
export const EXIT_FAILURE = 1;
/** A mistake on the command line, in the config file or in a file an option names. */
export const EXIT_USAGE = 2;
/** A bug: an exception no handler caught (EX_SOFTWARE). */
export const EXIT_INTERNAL = 70;

// Log lines and one-line errors share one synchronous, unbuffered writer on fd 2: they keep their order, and no line
// is still queued when an exit path calls process.exit (syslog, which is not synchronous, is flushed by the shutdown).
export const stderr = fdSink(2);

// Undone by fail(): a pid file written before a later start step failed.
const cleanups: (() => void)[] = [];

/** Registers what a failed start must undo before the process exits. */
export function undoOnFailure(cleanup: () => void): void {
  cleanups.push(cleanup);
}

function runCleanups(): void {
  for (const cleanup of cleanups.splice(0)) cleanup();
}

/** Prints `wsproxy: MESSAGE` on stderr and exits with `code`. */
export function fail(message: string, code: number): never {
  runCleanups();
  // Under -D stderr is /dev/null: the waiting parent prints the line instead (no-op when not a daemon child).
  // Redacted like a log line: an error text may quote a URL with a token or password in it.
  const line = `wsproxy: ${redactUrl(message)}`;
  reportFailure(code, line);
  stderr.write(`${line}\n`);
  process.exit(code);
}

/** Runs `step`; an error of class `known` becomes its one line and exit `code`, anything else is rethrown. */
export function failOn<T>(known: abstract new (...args: never[]) => Error, code: number, step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof known) fail(err.message, code);
    throw err;
  }
}

/** A bug that escapes every handler: one line (no secrets, no stack unless asked) and exit 70. */
export function exitOnUncaught(): void {
  process.on('uncaughtException', (err) => {
    reportFailure(EXIT_INTERNAL, `wsproxy: internal error: ${redactUrl(err.message)}`);
    runCleanups();
    const stack = process.env['WSPROXY_DEBUG'] ? `\n${redactUrl(err.stack ?? '')}` : '';
    stderr.write(`wsproxy: internal error: ${redactUrl(err.message)}${stack}\n`);
    process.exit(EXIT_INTERNAL);
  });
}
