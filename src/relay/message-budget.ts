/**
 * One budget for the bytes all sessions hold in client messages that have not finished arriving (`maxBufferedTotal`;
 * issue #12). Each session may buffer up to `maxMessageSize` of an unfinished message: without a shared bound, a
 * few dozen sessions sending FIN=0 fragments hold gigabytes. Pure bookkeeping: whoever buffers reports what it holds.
 */

/** What one session holds now (its share of the total). */
export interface BudgetShare {
  held: number;
}

/** The shared budget. `limit` 0 means no limit (the total is still kept, for the metrics). */
export class MessageBudget {
  private total = 0;

  constructor(public limit: number) {}

  /** Bytes held across all sessions. */
  get used(): number {
    return this.total;
  }

  /** A new share, holding nothing. */
  share(): BudgetShare {
    return { held: 0 };
  }

  /**
   * Sets what `share` holds now. Growing past the limit is refused: the share keeps its old value and false comes
   * back (the caller ends that session). Shrinking always succeeds.
   */
  set(share: BudgetShare, bytes: number): boolean {
    const next = this.total - share.held + bytes;
    if (bytes > share.held && this.limit > 0 && next > this.limit) return false;
    this.total = next;
    share.held = bytes;
    return true;
  }

  /** The session has ended or dropped what it held. */
  release(share: BudgetShare): void {
    this.total -= share.held;
    share.held = 0;
  }
}
