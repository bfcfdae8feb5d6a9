/**
 * `syslog`: one syslog message per log line, next to stderr and the `logFile` tee. RFC 5424 by default
 * (`<PRI>1 TIMESTAMP HOSTNAME wsproxy PID - - MSG`, the header websockify's `WebsockifySysLogHandler` writes), RFC 3164
 * with `legacySyslog` (`<PRI>Mmm dd hh:mm:ss HOSTNAME wsproxy[PID]: MSG`). Facility `user`, or `daemon` with -D.
 *
 * Destinations:
 * - `host:port`: UDP, as websockify (Python's SysLogHandler with an address tuple), one datagram per line.
 * - a unix socket path such as /dev/log: syslog daemons listen there with SOCK_DGRAM, which Node cannot open. Python
 *   tries DGRAM then STREAM; a Node stream socket cannot reach rsyslog's or journald's /dev/log at all (EPROTOTYPE),
 *   and the npm datagram addons (unix-dgram) need a compiler at install time and are barely kept. So the lines are
 *   fed to one long-running util-linux `logger -u PATH --socket-errors=off --prio-prefix` child on stdin (present on
 *   every Linux, where /dev/log exists at all): it opens the datagram socket and writes the same RFC 5424/3164
 *   header (`--rfc5424=notq`/`--rfc3164`, `-t wsproxy`, `--id=PID`), and we pass the priority per line as `<PRI>`.
 *
 * Never fatal: an unresolvable host, a missing socket, a missing `logger` or a dead child each give one warning line
 * (through `warn`, which must not loop back into syslog) and the daemon keeps running with syslog off or degraded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { statSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import type { SyslogConfig } from '../config/types.js';
import type { LogLevel } from '../log.js';
import { flag } from '../config/options/index.js';

const FACILITY = { user: 1, daemon: 3 } as const;
// RFC 5424 §6.2.1 severities: 3 error, 4 warning, 6 informational, 7 debug.
const SEVERITY: Record<LogLevel, number> = { error: 3, warn: 4, info: 6, debug: 7 };
/** The APP-NAME / TAG on every message. */
export const APP_NAME = 'wsproxy';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** PRI = facility * 8 + severity (RFC 5424 §6.2.1). */
export function syslogPri(facility: SyslogConfig['facility'], level: LogLevel): number {
  return FACILITY[facility] * 8 + SEVERITY[level];
}

/** One message's fields. */
export interface SyslogFields {
  readonly pri: number;
  readonly time: Date;
  readonly hostname: string;
  readonly pid: number;
  readonly msg: string;
}

// RFC 5424 §6: HOSTNAME, APP-NAME and PROCID are PRINTUSASCII without spaces; NILVALUE '-' when empty.
function printable(value: string, max: number): string {
  const v = value.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return v === '' ? '-' : v;
}

/** An RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG`. */
export function formatRfc5424(f: SyslogFields): string {
  return `<${f.pri}>1 ${f.time.toISOString()} ${printable(f.hostname, 255)} ${APP_NAME} ${f.pid} - - ${f.msg}`;
}

/** An RFC 3164 message: `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG` (local time, day padded with a space). */
export function formatRfc3164(f: SyslogFields): string {
  const t = f.time;
  const two = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${MONTHS[t.getMonth()] ?? 'Jan'} ${String(t.getDate()).padStart(2, ' ')} ${two(t.getHours())}:${two(t.getMinutes())}:${two(t.getSeconds())}`;
  return `<${f.pri}>${stamp} ${printable(f.hostname, 255)} ${APP_NAME}[${f.pid}]: ${f.msg}`;
}

/**
 * The message part of a log line: the line without its newline and, for text lines, without the leading timestamp
 * and level (syslog has its own); control characters become spaces so one line stays one message.
 */
export function syslogMessage(line: string): string {
  return (
    line
      .replace(/\n$/, '')
      .replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (?:DEBUG|INFO |WARN |ERROR) /, '')
      // eslint-disable-next-line no-control-regex -- control characters are exactly what must not reach syslog
      .replace(/[\x00-\x1f\x7f]/g, ' ')
  );
}

/** A log sink that forwards each line to syslog. */
export interface SyslogSink {
  write(line: string, level: LogLevel): void;
  /** Flushes what was written (so the last lines before exit arrive), at most `FLUSH_MS`, then closes. */
  close(): Promise<void>;
}

/** The longest `close()` waits for queued lines before giving up on them. */
export const FLUSH_MS = 1_000;

function withinFlushTime(done: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, FLUSH_MS)));
  return Promise.race([done.then(() => undefined), late]).finally(() => clearTimeout(timer));
}

/** Options for {@link createSyslogSink}. */
export interface SyslogSinkOptions {
  /** A one-line warning writer that does not feed back into syslog (stderr + log file). */
  readonly warn: (message: string) => void;
  readonly hostname?: string;
  readonly now?: () => Date;
}

/** Opens the syslog destination. Problems are reported once through `warn`; writing never throws. */
export function createSyslogSink(config: SyslogConfig, options: SyslogSinkOptions): SyslogSink {
  const host = options.hostname ?? osHostname();
  const now = options.now ?? (() => new Date());
  let warned = false;
  const warnOnce = (message: string): void => {
    if (warned) return;
    warned = true;
    options.warn(message);
  };
  const dest = config.destination;
  if (dest.kind === 'udp') {
    const socket: UdpSocket = createSocket(dest.host.includes(':') ? 'udp6' : 'udp4');
    socket.on('error', (err) =>
      warnOnce(`${flag('syslog')} ${dest.host}:${dest.port}: ${err.message}; syslog lines may be lost`),
    );
    socket.unref();
    let open = true;
    let pending = 0;
    let drained: (() => void) | undefined;
    return {
      write: (line, level) => {
        if (!open) return;
        const fields = {
          pri: syslogPri(config.facility, level),
          time: now(),
          hostname: host,
          pid: process.pid,
          msg: syslogMessage(line),
        };
        const msg = Buffer.from(config.legacy ? formatRfc3164(fields) : formatRfc5424(fields));
        pending++;
        socket.send(msg, dest.port, dest.host, (err) => {
          if (err) warnOnce(`${flag('syslog')} ${dest.host}:${dest.port}: ${err.message}; syslog lines may be lost`);
          if (--pending === 0) drained?.();
        });
      },
      close: async () => {
        if (!open) return;
        open = false;
        if (pending > 0) await withinFlushTime(new Promise<void>((resolve) => (drained = resolve)));
        socket.close();
      },
    };
  }
  return createLoggerChildSink(dest.path, config, warnOnce);
}

function createLoggerChildSink(path: string, config: SyslogConfig, warnOnce: (m: string) => void): SyslogSink {
  let isSocket: boolean;
  try {
    isSocket = statSync(path).isSocket();
  } catch {
    isSocket = false;
  }
  if (!isSocket) {
    warnOnce(`${flag('syslog')}: ${path} is not a socket (is a syslog daemon running?); syslog output is off`);
    return { write: () => {}, close: () => Promise.resolve() };
  }
  let child: ChildProcess | undefined = spawn(
    'logger',
    [
      '-u',
      path,
      '--socket-errors=off',
      '--prio-prefix',
      config.legacy ? '--rfc3164' : '--rfc5424=notq',
      '-t',
      APP_NAME,
      `--id=${process.pid}`,
    ],
    // Own process group: a terminal's Ctrl-C must not kill it before wsproxy's last lines; it ends at stdin EOF.
    { stdio: ['pipe', 'ignore', 'ignore'], detached: true },
  );
  const down = (why: string): void => {
    if (child === undefined) return;
    child = undefined;
    warnOnce(`${flag('syslog')} ${path}: ${why}; syslog output is off`);
  };
  child.on('error', (err: NodeJS.ErrnoException) =>
    down(
      err.code === 'ENOENT' ? "the 'logger' program (util-linux) is not installed" : `logger failed: ${err.message}`,
    ),
  );
  child.on('exit', (code) => down(`logger exited (status ${code ?? '?'})`));
  child.stdin?.on('error', (err) => down(`logger input failed: ${err.message}`));
  // The logger child must not keep wsproxy alive on its own.
  child.unref();
  return {
    write: (line, level) => {
      const stdin = child?.stdin;
      if (!stdin || stdin.destroyed) return;
      // Drop rather than queue without bound if logger falls behind (house rule: no unbounded queue).
      if (stdin.writableLength > 1024 * 1024) return;
      stdin.write(`<${syslogPri(config.facility, level)}>${syslogMessage(line)}\n`);
    },
    close: async () => {
      const proc = child;
      if (proc === undefined) return;
      child = undefined; // its exit is expected now, not a warning
      // logger sends what it has read and exits at end of input.
      const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.stdin?.end();
      await withinFlushTime(gone);
    },
  };
}
