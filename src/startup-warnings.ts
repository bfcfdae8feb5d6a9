/**
 * Warnings said once at start (by the single process, or by the `workers` primary, never by each worker): an
 * open relay, and secret files sitting in the `web` root (they are not served; the operator should move them).
 */
import { realpathSync } from 'node:fs';
import type { Config } from './config/types.js';
import { hiddenWebFiles } from './http/web-secrets.js';
import type { Logger } from './log.js';
import { openRelayWarning } from './policy/open-relay.js';
import { flag } from './config/options/index.js';

export async function warnAtStart(config: Config, log: Logger): Promise<void> {
  const relay = openRelayWarning(config);
  if (relay !== undefined) log.warn(relay, { reason: 'OPEN_RELAY' });
  if (config.webRoot === undefined) return;
  let files: string[];
  try {
    files = await hiddenWebFiles(config, realpathSync(config.webRoot));
  } catch {
    return; // the web root is checked by resolveConfig; a race here only costs the warning
  }
  if (files.length > 0) {
    log.warn(`${flag('web')}: these files hold secrets and are not served (404); move them out of the web root`, {
      reason: 'WEB_SECRET_HIDDEN',
      files: files.join(','),
    });
  }
}
