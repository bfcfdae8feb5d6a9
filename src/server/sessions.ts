/**
 * The session registry of one server: every relaying session from its start to its end, with what it holds (its
 * token source, while a fleet-wide count keeps its slot there). Serves `sessions()`, `/sessions`, closing one session
 * by id, the revalidator, metrics, and the drain and shutdown that wait for sessions to end.
 */
import type { SessionRow } from '../admin/server.js';
import { hostPort } from '../net/address.js';
import type { RelayStats } from '../relay/relay.js';
import type { SessionInfo } from '../websocket/handshake.js';

/** A snapshot of one relaying session. */
export interface SessionSnapshot extends RelayStats {
  readonly id: number;
  readonly remoteAddress: string;
  readonly scheme: 'ws' | 'wss';
  readonly target: string;
  readonly startedAt: string;
}

/** Resolves after `ms`, or when `done` settles first; the timer is cleared either way. */
async function within(done: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** The live sessions of one server. */
export class SessionRegistry {
  readonly #sessions = new Map<number, SessionInfo>();
  // What a session lets go of when it ends (its hold on the token source that keeps its fleet-wide slot).
  readonly #releases = new Map<number, () => void>();

  get size(): number {
    return this.#sessions.size;
  }

  values(): IterableIterator<SessionInfo> {
    return this.#sessions.values();
  }

  /** Tracks a session that started relaying; `release` is called when it ends. */
  add(session: SessionInfo, release?: () => void): void {
    this.#sessions.set(session.id, session);
    if (release) this.#releases.set(session.id, release);
  }

  /** Forgets a session that ended and lets go of what it held. */
  end(session: SessionInfo): void {
    this.#sessions.delete(session.id);
    this.#releases.get(session.id)?.();
    this.#releases.delete(session.id);
  }

  /** Closes one live session with 1008 (`ADMIN_CLOSED`); false if there is none with that id. */
  close(id: number): boolean {
    const session = this.#sessions.get(id);
    if (!session) return false;
    session.conn.log.info('session closed by operator', { reason: 'ADMIN_CLOSED' });
    session.relay.close('ADMIN_CLOSED', 1008, 'Closed by operator');
    return true;
  }

  /** The rows of `GET /sessions` (the token only as its hash). */
  rows(): SessionRow[] {
    return [...this.#sessions.values()].map((s) => {
      const st = s.relay.stats();
      return {
        id: s.id,
        client: hostPort(s.conn.remoteAddress, s.conn.remotePort),
        scheme: s.scheme,
        token_hash: s.tokenHash ?? null,
        target: s.target,
        started: new Date(s.startedAt).toISOString(),
        bytes_from_client: st.bytesFromClient,
        bytes_to_client: st.bytesToClient,
      };
    });
  }

  /** The sessions as the library API shows them. */
  snapshots(): SessionSnapshot[] {
    return [...this.#sessions.values()].map((s) => ({
      id: s.id,
      remoteAddress: s.conn.remoteAddress,
      scheme: s.scheme,
      target: s.target,
      startedAt: new Date(s.startedAt).toISOString(),
      ...s.relay.stats(),
    }));
  }

  /** Waits up to `timeoutMs` for the sessions open now to end by themselves (the drain). */
  async settle(timeoutMs: number): Promise<void> {
    await within(Promise.all([...this.#sessions.values()].map((s) => s.relay.done)), timeoutMs);
  }

  /** Closes every session with 1001, waits up to `timeoutMs` for them to end, then cuts what is left. */
  async shutDown(timeoutMs: number): Promise<void> {
    const open = [...this.#sessions.values()];
    for (const s of open) s.relay.close('SERVER_SHUTDOWN', 1001, 'Server shutting down');
    await within(Promise.all(open.map((s) => s.relay.done)), timeoutMs);
    for (const s of this.#sessions.values()) s.relay.terminate();
  }
}
