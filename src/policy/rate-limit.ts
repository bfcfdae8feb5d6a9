/**
 * Per-client handshake rate limit: a token bucket per address, IPv6 per /64 (pure state, clock passed in). Each bucket holds up to
 * `burst` handshakes and refills at `perSecond`; an empty bucket says how long until the next one is allowed (the
 * `Retry-After` of the 429). Buckets that have refilled completely carry no information and are dropped, so memory
 * follows the number of recently active clients.
 */

import { clientKey } from '../net/address.js';
import { isHostAllowedBy } from './host-allowlist.js';

/** The key a client address is counted under: net/address.ts's {@link clientKey} (IPv6 per /64), by its older name. */
export const rateKey: (address: string) => string = clientKey;

/** A rate: `perSecond` refill, `burst` capacity. */
export interface Rate {
  readonly perSecond: number;
  readonly burst: number;
}

/** Parses `10/s`, `600/min`, `5/m` or `2` (per second). Capacity is N: up to N handshakes at once, then the rate. */
export function parseRate(text: string): Rate | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|second|m|min|minute|h|hour))?\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (!(n > 0)) return undefined;
  const unit = (m[2] ?? 's').toLowerCase();
  const seconds = unit.startsWith('h') ? 3600 : unit.startsWith('m') ? 60 : 1;
  return { perSecond: n / seconds, burst: Math.max(1, Math.floor(n)) };
}

const SWEEP_AT = 10_000;

/** Token buckets by client address. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly rate: Rate) {}

  /** Takes one handshake for `key` at time `now` (ms). Refused: how many seconds until one is available. */
  take(key: string, now: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const b = this.buckets.get(key) ?? { tokens: this.rate.burst, at: now };
    const tokens = Math.min(this.rate.burst, b.tokens + ((now - b.at) / 1000) * this.rate.perSecond);
    if (tokens < 1) {
      this.buckets.set(key, { tokens, at: now });
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / this.rate.perSecond)) };
    }
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    if (this.buckets.size > SWEEP_AT) this.sweep(now);
    return { ok: true };
  }

  /** Gives back one taken earlier for `key` (a reservation that turned out not to count), never above the burst. */
  refund(key: string, now: number): void {
    const b = this.buckets.get(key);
    if (!b) return;
    this.buckets.set(key, {
      tokens: Math.min(this.rate.burst, b.tokens + ((now - b.at) / 1000) * this.rate.perSecond + 1),
      at: now,
    });
  }

  /** Drops buckets that are full again. */
  private sweep(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.rate.perSecond >= this.rate.burst) this.buckets.delete(key);
    }
  }

  /** Clients with a bucket (for tests). */
  get size(): number {
    return this.buckets.size;
  }
}

/** Counts live sessions per key (a token hash) against a cap, with reservations taken before the target is dialled. */
export class SessionCounter {
  private readonly counts = new Map<string, number>();

  /** `max` is the default cap; `acquire` may name another (a reload changes the cap, the live counts stay). */
  constructor(private readonly max: number = Infinity) {}

  /** Reserves a slot for `key`; returns the release function, or undefined at the cap. Release exactly once. */
  acquire(key: string, max: number = this.max): (() => void) | undefined {
    const n = this.counts.get(key) ?? 0;
    if (n >= max) return undefined;
    this.counts.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(key) ?? 1) - 1;
      if (left <= 0) this.counts.delete(key);
      else this.counts.set(key, left);
    };
  }

  /** Live sessions for `key`. */
  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}

/** Whether a `Host` header names one of `allowed` (names lowercased, port ignored, `[v6]` accepted). */
export function isHostAllowed(host: string | undefined, allowed: readonly string[]): boolean {
  return allowed.length === 0 || isHostAllowedBy(host, { kind: 'list', names: allowed });
}
