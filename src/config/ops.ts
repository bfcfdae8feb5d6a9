/** Operations: log output, session recording, process lifetime and the number of worker processes. */
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { DEFAULTS, type CliArgs } from './options/index.js';
import { flag } from './options/index.js';
import { oneOf, parseSeconds, resolveWorkers } from './parse.js';
import type { ConfigProbes } from './probes.js';
import { WORKER_CLASHES } from './rules.js';
import type { Config, Lifecycle } from './types.js';

export function resolveLog(args: CliArgs, cwd: string, stderrIsTty: boolean): Config['log'] {
  // auto (the CLI default): people at a terminal read text; collectors (journald, Docker, Kubernetes) get JSON.
  const chosen = args.logFormat === 'auto' ? (stderrIsTty ? 'text' : 'json') : args.logFormat;
  const format = oneOf(chosen, ['text', 'json'], flag('logFormat'), ['auto', 'text', 'json']);
  const level = oneOf(
    args.logLevel ?? (args.verbose ? 'debug' : 'info'),
    ['debug', 'info', 'warn', 'error'],
    flag('logLevel'),
  );
  return { level, format, ...(args.logFile === undefined ? {} : { file: resolve(cwd, args.logFile) }) };
}

/** The recording file prefix (absolute); its folder must exist. */
export function resolveRecord(args: CliArgs, cwd: string, probes: ConfigProbes): string | undefined {
  if (args.record === undefined) return undefined;
  const prefix = resolve(cwd, args.record);
  if (!probes.isDirectory(dirname(prefix))) {
    const name = flag('record');
    throw new ConfigError(
      name,
      `${name}: the folder of '${prefix}' does not exist; sessions are written to ${prefix}.<n>`,
    );
  }
  return prefix;
}

export function resolveLifecycle(args: CliArgs): Lifecycle {
  return {
    runOnce: args.runOnce,
    timeoutMs: parseSeconds(args.timeout, flag('timeout'), true),
    idleTimeoutMs: parseSeconds(args.idleTimeout, flag('idleTimeout'), true),
    drainTimeoutMs: parseSeconds(args.drainTimeout ?? String(DEFAULTS.drainTimeoutSeconds), flag('drainTimeout'), true),
  };
}

/** The worker count; more than one refuses the options that are about one process. */
export function resolveWorkerCount(args: CliArgs, cores: number): number {
  const workers = resolveWorkers(args.workers, cores);
  if (workers <= 1) return workers;
  const clash = WORKER_CLASHES.find((c) => c.clashes(args))?.label;
  if (clash !== undefined) {
    const name = flag('workers');
    throw new ConfigError(
      name,
      `${name} ${workers} and ${clash} exclude each other (${clash} is about one process); drop one of them`,
    );
  }
  return workers;
}
