/**
 * The one place config messages get an option's flag from, so no long option name is spelled out in config/: two
 * dashes and the key in kebab case (`targetCa` gives target-ca), as yargs derives the camel-case key from the flag.
 */
import type { CliArgs } from './args.js';

/** Two dashes and the kebab case of a CliArgs key; digits stay attached (`tls13Ciphers` gives tls13-ciphers). */
export function flag(key: keyof CliArgs): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
