/**
 * Counts attempts per key in a sliding window, in memory. Used for throttles that may reset
 * with the daemon (per-source limits, tries per minute); lockouts that must survive a restart
 * are stored on the user row instead.
 */
export class AttemptLimiter {
  private readonly attempts = new Map<string, number[]>();

  constructor(
    private readonly maxAttempts: number,
    private readonly windowMs: number,
  ) {}

  /** Seconds until `key` may try again, or 0 if it may try now. */
  retryAfter(key: string, now = Date.now()): number {
    const recent = this.recent(key, now);
    if (recent.length < this.maxAttempts) return 0;
    return Math.max(1, Math.ceil((recent[0]! + this.windowMs - now) / 1000));
  }

  hit(key: string, now = Date.now()): void {
    const recent = this.recent(key, now);
    recent.push(now);
    // Only the newest `maxAttempts` decide when the key may try again: keeping more would make
    // every failure of a long flood rescan all the others.
    this.attempts.set(key, recent.slice(-this.maxAttempts));
    if (this.attempts.size > 10_000) this.prune(now);
  }

  reset(key: string): void {
    this.attempts.delete(key);
  }

  private recent(key: string, now: number): number[] {
    return (this.attempts.get(key) ?? []).filter((at) => at > now - this.windowMs);
  }

  /** Bounds memory under a flood of distinct keys. */
  private prune(now: number): void {
    for (const [key, times] of this.attempts) {
      if (!times.some((at) => at > now - this.windowMs)) this.attempts.delete(key);
    }
  }
}
