/**
 * sd_notify readiness for `Type=notify` systemd services. The protocol is one datagram on the AF_UNIX socket named
 * by `NOTIFY_SOCKET`, which Node cannot send (its dgram module is UDP only), so the state goes through systemd's own
 * `systemd-notify` program: started with execFile (no shell), with `--pid` naming this process as the main pid. Since
 * systemd 246 `systemd-notify` waits (a notification barrier) until the manager has processed the message, so its
 * short life does not lose the message; the unit sets `NotifyAccess=all` because the sender is our child.
 *
 * Never fatal: without `NOTIFY_SOCKET` nothing happens; a missing or failing `systemd-notify` is one warning.
 */
import { execFile } from 'node:child_process';
import type { Logger } from '../log.js';

/** The states wsproxy reports. */
export type NotifyState = 'ready' | 'stopping';

/** The `systemd-notify` arguments for a state. */
export function notifyArgs(state: NotifyState, pid: number): string[] {
  return state === 'ready' ? ['--ready', `--pid=${pid}`] : [`--pid=${pid}`, 'STOPPING=1'];
}

/** Tells systemd the state, if wsproxy runs under a `Type=notify` unit. Resolves when done (or failed: logged). */
export function notifySystemd(
  state: NotifyState,
  env: Readonly<Record<string, string | undefined>>,
  log: Logger,
  pid = process.pid,
): Promise<void> {
  if (!env['NOTIFY_SOCKET']) return Promise.resolve();
  return new Promise((resolve) => {
    execFile('systemd-notify', notifyArgs(state, pid), { timeout: 10_000, env: { ...env } }, (err) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        log.warn('systemd-notify failed; systemd may not see the state change', {
          state,
          error: code === 'ENOENT' ? 'systemd-notify not installed' : err.message.split('\n')[0],
        });
      } else {
        log.debug('systemd notified', { state });
      }
      resolve();
    });
  });
}
