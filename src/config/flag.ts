/**
 * The one place config messages get an option's flag from, so no long option name is spelled out in config/: the
 * flag is the key in kebab case (`targetCa` → `--target-ca`), as yargs derives the camel-case key from the flag.
 */
import type { CliArgs } from './args.js';

/** `--` and the kebab case of a CliArgs key: flag('targetCa') is '--target-ca'; digits stay attached (tls13Ciphers). */
export function flag(key: keyof CliArgs): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
