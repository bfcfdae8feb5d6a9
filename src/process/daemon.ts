/**
 * `-D/`daemon` and `pidFile`. Node cannot fork, so the daemon is this same program started again, detached into
 * its own session (`setsid`), with standard output and error on /dev/null or on the `logFile`. The parent waits on
 * a pipe (fd 3 of the child) for one line: `ready` once the child listens, or `error <status> <message>`; it exits 0
 * only after `ready`, and otherwise with the child's status and its one-line error, so `wsproxy -D` in a script fails
 * loudly instead of leaving nothing behind. Used only by the process edge (main.ts and process/).
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';

/** Set in the detached child's environment: `null` (stdio on /dev/null) or `log` (stdio on the `logFile`). */
export const DAEMON_ENV = 'WSPROXY_DAEMON_CHILD';
const READY_FD = 3;

/** What the detached child reported. */
export type DetachResult = { ok: true; pid: number } | { ok: false; status: number; message: string };

/**
 * Starts `process.execPath` with `argv` detached and waits for its readiness line. `logFile`, when given, is opened
 * here (append, 0600) and becomes the child's stdout and stderr.
 */
export async function detach(argv: readonly string[], logFile: string | undefined): Promise<DetachResult> {
  const out = logFile === undefined ? 'ignore' : openSync(logFile, 'a', 0o600);
  const child = spawn(process.execPath, [...argv], {
    detached: true,
    stdio: ['ignore', out, out, 'pipe'],
    env: { ...process.env, [DAEMON_ENV]: logFile === undefined ? 'null' : 'log' },
  });
  if (typeof out === 'number') closeSync(out);
  const pipe = child.stdio[READY_FD] as Readable | null | undefined;
  let text = '';
  const outcome = await new Promise<DetachResult>((resolve) => {
    child.on('error', (err) => resolve({ ok: false, status: 1, message: `cannot start the daemon: ${err.message}` }));
    child.on('exit', (code, signal) =>
      resolve(
        parseReport(text) ?? {
          ok: false,
          status: code ?? 1,
          message: `the daemon exited during start (${signal ?? `status ${code ?? '?'}`})`,
        },
      ),
    );
    if (pipe === null || pipe === undefined) return;
    pipe.on('error', () => {});
    pipe.setEncoding('utf8');
    pipe.on('data', (chunk: string) => {
      text += chunk;
      const report = parseReport(text);
      if (report?.ok === true) resolve({ ok: true, pid: child.pid ?? 0 });
      else if (report !== undefined) resolve(report);
    });
  });
  pipe?.destroy();
  child.unref();
  return outcome;
}

function parseReport(text: string): DetachResult | undefined {
  const nl = text.indexOf('\n');
  if (nl < 0) return undefined;
  const line = text.slice(0, nl);
  if (line === 'ready') return { ok: true, pid: 0 };
  const m = /^error (\d+) (.*)$/.exec(line);
  return m ? { ok: false, status: Number(m[1]), message: m[2] ?? '' } : undefined;
}

/** Whether this process is the detached daemon child. */
export function isDaemonChild(): boolean {
  return process.env[DAEMON_ENV] === 'null' || process.env[DAEMON_ENV] === 'log';
}

/** Child side: tell the waiting parent the daemon listens (then the pipe is closed). Safe to call more than once. */
export function reportReady(): void {
  report('ready');
}

/** Child side: hand the parent the one-line error it should print and the status it should exit with. */
export function reportFailure(status: number, message: string): void {
  report(`error ${status} ${message.replace(/\n/g, ' ')}`);
}

let reported = false;
function report(line: string): void {
  if (reported || !isDaemonChild()) return;
  reported = true;
  try {
    writeSync(READY_FD, line + '\n');
    closeSync(READY_FD);
  } catch {
    // The parent is gone (EPIPE/EBADF): nobody is waiting any more.
  }
}

/** The pid a `pidFile` names if that process is alive, else undefined (no file, garbage, or a dead pid). */
export function livePidIn(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const pid = /^\s*(\d+)\s*$/.exec(text)?.[1];
  if (pid === undefined || Number(pid) <= 0 || Number(pid) === process.pid) return undefined;
  try {
    process.kill(Number(pid), 0);
    return Number(pid);
  } catch (err) {
    // EPERM: it exists but belongs to someone else; still running.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? Number(pid) : undefined;
  }
}

/**
 * Writes this process's pid atomically: a temporary file in the same folder, then rename over the target. The
 * temporary name is random and opened with O_CREAT|O_EXCL|O_NOFOLLOW, so a file or symlink planted there (in a
 * shared folder such as /run or /tmp) makes the write fail instead of writing through it; rename replaces a symlink
 * at `path` itself and never follows it.
 */
export function writePidFile(path: string): void {
  const tmp = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  // Throws EEXIST or ELOOP if something is already there; then nothing of ours exists to clean up.
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmQuietly(tmp);
    throw err;
  }
}

function rmQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // nothing was written
  }
}

/** Removes the pid file if it still names this process (another instance may have replaced it). */
export function removePidFile(path: string): void {
  try {
    if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
  } catch {
    // already gone
  }
}
