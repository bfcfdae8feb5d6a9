/**
 * Where the process's log lines go: stderr, plus `logFile` and `syslog` when given, in the configured level and
 * format; a reload's `logLevel`/`logFormat` reaches every logger made here.
 */
import { openSync } from 'node:fs';
import type { Config, SyslogConfig } from '../config/types.js';
import { errnoCode } from '../errors.js';
import { createLogger, fdSink, type LogSink, type RootLogger } from '../log.js';
import { EXIT_USAGE, fail, stderr } from './exit.js';
import { createSyslogSink, type SyslogSink } from './syslog.js';
import { flag } from '../config/options/index.js';

export interface LogOutput {
  readonly rootLog: RootLogger;
  /** Flushed by the shutdown, so that the last lines reach syslog before the process ends. */
  readonly syslog: SyslogSink | undefined;
  /** Applies a reload's log level and format. */
  applyLogSettings(applied: Config): void;
}

/** stderr and the `logFile` (opened for appending, mode 0600; a bad path is a usage error). */
function stderrAndFile(file: string): LogSink {
  let fd: number;
  try {
    fd = openSync(file, 'a', 0o600);
  } catch (err) {
    fail(
      `${flag('logFile')}: cannot open ${file} (${errnoCode(err) ?? (err as Error).message}); check the folder exists and is writable`,
      EXIT_USAGE,
    );
  }
  let warned = false;
  const toFile = fdSink(fd, (err) => {
    if (!warned)
      stderr.write(
        `wsproxy: ${flag('logFile')} ${file}: write failed (${errnoCode(err) ?? err.message}); lines may be missing from it\n`,
      );
    warned = true;
  });
  return { write: (line: string) => (stderr.write(line), toFile.write(line)) };
}

/**
 * Sets up the log output. `stderrIsLogFile`: under -D with `logFile`, stderr already is the log file (the parent
 * opened it), so there is no second copy.
 */
export function openLogOutput(
  log: Config['log'],
  syslogConfig: SyslogConfig | undefined,
  stderrIsLogFile: boolean,
): LogOutput {
  const settings = { level: log.level, format: log.format };
  let sink: LogSink = log.file !== undefined && !stderrIsLogFile ? stderrAndFile(log.file) : stderr;
  // Every logger a reload's `logLevel`/`logFormat` reaches.
  const loggers: RootLogger[] = [];
  let syslog: SyslogSink | undefined;
  if (syslogConfig !== undefined) {
    const plain = sink;
    // Warnings about syslog itself go to stderr/`logFile` only, never back into syslog.
    const plainLog = createLogger({ ...settings, sink: plain });
    loggers.push(plainLog);
    const both = createSyslogSink(syslogConfig, { warn: (m) => plainLog.warn(m) });
    syslog = both;
    sink = {
      write: (line: string) => plain.write(line),
      writeAt: (level, line) => (plain.write(line), both.write(line, level)),
    };
  }
  const rootLog = createLogger({ ...settings, sink });
  loggers.push(rootLog);
  return {
    rootLog,
    syslog,
    applyLogSettings(applied) {
      for (const l of loggers) l.configure({ level: applied.log.level, format: applied.log.format });
    },
  };
}
