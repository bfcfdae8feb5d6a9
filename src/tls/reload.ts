/**
 * Keeping the TLS material fresh without a restart: session ticket keys replaced on a timer (Node makes one key at
 * start and never rotates it; Go rotates daily, golang/go#25256), and a watch on the certificate, key, chain, CA and
 * CRL files that asks for a reload when one changes. The reload itself (build a new context, keep the old one on
 * failure) lives in upkeep.ts; this file only says *when*.
 */
import { randomBytes } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Server as TlsServer } from 'node:tls';
import type { Logger } from '../log.js';

/** Replaces the server's session ticket keys now (48 random bytes: name, HMAC and AES keys). */
export function rotateTicketKeys(server: Pick<TlsServer, 'setTicketKeys'>): void {
  server.setTicketKeys(randomBytes(48));
}

/** Rotates ticket keys every `intervalMs`; returns a stopper. The timer does not keep the process alive. */
export function startTicketRotation(server: Pick<TlsServer, 'setTicketKeys'>, intervalMs: number): () => void {
  rotateTicketKeys(server);
  const timer = setInterval(() => rotateTicketKeys(server), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

// Editors and certbot write several files in a burst (rename, then symlink swaps); one reload after the burst.
const DEBOUNCE_MS = 300;

/**
 * Watches the folders holding `files` (a watch on the file itself is lost when the file is replaced by a rename, as
 * certbot and editors do) and calls `onChange` once per burst of changes to one of them. Returns a stopper.
 */
export function watchFiles(files: readonly string[], onChange: (file: string) => void, log: Logger): () => void {
  const byDir = new Map<string, Set<string>>();
  for (const file of files) {
    const dir = dirname(file);
    const names = byDir.get(dir) ?? new Set<string>();
    names.add(basename(file));
    byDir.set(dir, names);
  }
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let changed = '';
  for (const [dir, names] of byDir) {
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, { persistent: false });
    } catch (err) {
      log.warn('cannot watch the TLS files; reload with SIGHUP', {
        dir,
        error: (err as NodeJS.ErrnoException).code ?? (err as Error).message,
      });
      continue;
    }
    watcher.on('error', (err) => log.warn('TLS file watch failed; reload with SIGHUP', { dir, error: err.message }));
    watcher.on('change', (_event, name) => {
      // Some platforms report no name; then any change in the folder counts.
      const file = name === null ? undefined : String(name);
      if (file !== undefined && !names.has(file)) return;
      changed = `${dir}/${file ?? '?'}`;
      clearTimeout(timer);
      timer = setTimeout(() => onChange(changed), DEBOUNCE_MS);
      timer.unref();
    });
    watchers.push(watcher);
  }
  return () => {
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
