/**
 * `runOnce`: one session in the life of the process (websockify serves exactly one). A handshake claims the one
 * session before it dials the target, so a second, overlapping handshake is refused rather than racing the first;
 * the claim is given back if no session came of it (the first client was refused or left).
 */
export class SingleSession {
  private claimed = false;

  /** Whether the one session is claimed (a handshake is dialling for it, or it has started). */
  get taken(): boolean {
    return this.claimed;
  }

  /** Takes the one session; false if it is taken. */
  claim(): boolean {
    if (this.claimed) return false;
    this.claimed = true;
    return true;
  }

  /** Gives the claim back: the handshake that held it did not start a session. */
  release(): void {
    this.claimed = false;
  }
}
