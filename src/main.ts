#!/usr/bin/env node
/**
 * The process edge: parse the command line, then print the help or the version, run `wsproxy cert` or `wsproxy
 * check`, or serve (process/run.ts). The only module that imports cli.ts: process/ gets what it needs as arguments.
 */
import { readFileSync } from 'node:fs';
import { runCertCommand, type CertArgs } from './cert-command.js';
import { exitCodeFor, formatFindings, runChecks } from './check.js';
import { configFileOf, helpText, parseCommandLine, type CommandLine } from './cli.js';
import type { Config } from './config/types.js';
import { ConfigError, UsageError } from './errors.js';
import { configOf, configReader } from './process/config-source.js';
import { EXIT_FAILURE, EXIT_USAGE, exitOnUncaught, fail, failOn } from './process/exit.js';
import { run } from './process/run.js';
import { askSecret } from './process/secret-prompt.js';
import { writeStdout } from './process/stdout.js';

const argv = process.argv.slice(2);
// Parsed again on every reload: the start's command line and environment, the `config` file read anew.
const parse = (): CommandLine => parseCommandLine(argv, process.env);

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function certCommand(args: CertArgs): Promise<void> {
  try {
    await runCertCommand(args, {
      cwd: process.cwd(),
      env: process.env,
      out: (line) => writeStdout(line + '\n'),
      askSecret: process.stdin.isTTY && process.stderr.isTTY ? askSecret : undefined,
    });
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, EXIT_USAGE);
    throw err;
  }
}

/** `wsproxy check`: the findings on stdout; exit 0 when nothing failed, 1 otherwise. */
async function checkCommand(config: Config): Promise<never> {
  const findings = await runChecks(config);
  writeStdout(formatFindings(findings) + '\n');
  process.exit(exitCodeFor(findings));
}

async function main(): Promise<void> {
  const command = failOn(UsageError, EXIT_USAGE, parse);
  if (command.kind === 'help') return writeStdout(helpText() + '\n');
  if (command.kind === 'version') return writeStdout(version() + '\n');
  if (command.kind === 'cert') return certCommand(command.args);
  const config = failOn(ConfigError, EXIT_USAGE, () => configOf(command.args));
  if (command.kind === 'check') return checkCommand(config);
  await run({
    config,
    notices: command.notices,
    version: version(),
    readConfig: configReader(parse),
    configFile: configFileOf(argv, process.env),
  });
}

exitOnUncaught();
main().catch((err: unknown) => fail(`internal error: ${(err as Error).message}`, EXIT_FAILURE));
