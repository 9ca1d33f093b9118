import type { EntityManager } from 'typeorm';
import {
  clearAttempts,
  countAttempt,
  pruneAttemptCounts,
  readAttemptsDrainedAt,
} from '../../storage/attempt-counts.js';
import type { Database } from '../../storage/database.js';
import { AttemptLimiter } from './attempt-limiter.js';

/** Seconds `key` had to wait before an attempt (0: it was allowed) and has to wait after it. */
export interface AttemptWaits {
  before: number;
  after: number;
}

/**
 * Failed (or throttled) attempts per key, as every replica of the database sees them. Only
 * failures and throttled tries are counted, so a request that succeeds never writes here.
 */
export interface AttemptCounter {
  /** Seconds until `key` may try again, or 0 if it may try now. */
  retryAfter(key: string, now?: number): Promise<number>;
  /** Counts an attempt of `key`. */
  hit(key: string, now?: number): Promise<AttemptWaits>;
  /** Forgets `key`'s attempts, inside the caller's write `tx`. */
  reset(key: string, tx: EntityManager): Promise<void>;
}

/**
 * In memory on SQLite, where one daemon serves the database: nothing to share, and the sliding
 * window costs no I/O. In the database on PostgreSQL, where several replicas must add up to one
 * limit (`SharedAttempts`).
 */
export function attemptCounter(db: Database, kind: string, maxAttempts: number, windowMs: number): AttemptCounter {
  return db.driver === 'postgres'
    ? new SharedAttempts(db, kind, maxAttempts, windowMs)
    : new LocalAttempts(new AttemptLimiter(maxAttempts, windowMs));
}

class LocalAttempts implements AttemptCounter {
  constructor(private readonly limiter: AttemptLimiter) {}

  retryAfter(key: string, now = Date.now()): Promise<number> {
    return Promise.resolve(this.limiter.retryAfter(key, now));
  }

  hit(key: string, now = Date.now()): Promise<AttemptWaits> {
    const before = this.limiter.retryAfter(key, now);
    this.limiter.hit(key, now);
    return Promise.resolve({ before, after: this.limiter.retryAfter(key, now) });
  }

  reset(key: string): Promise<void> {
    this.limiter.reset(key);
    return Promise.resolve();
  }
}

/**
 * Counts in `attempt_counts` with one atomic upsert per attempt, so attempts through any replica
 * add up. Each attempt costs `windowMs / maxAttempts` that drains with time (a leaky bucket, one
 * row per key): `maxAttempts` at once pass and the next is refused, then one more passes each time
 * a cost has drained. Over any span of one window that lets at most twice the limit through (the
 * in-memory sliding window lets exactly the limit), with no window edge at which a count restarts.
 */
class SharedAttempts implements AttemptCounter {
  /**
   * Keys this replica saw at their limit, until they may try again: a flood past a limit is then
   * answered without a round trip to the database, as the in-memory limiter answers it.
   */
  private readonly limitedUntil = new Map<string, number>();
  private readonly costMs: number;
  /** What the bucket holds: `maxAttempts` costs. */
  private readonly capacityMs: number;
  /** A level further ahead than this came from a clock that went back since: it counts as drained. */
  private readonly staleAfterMs: number;
  private prunedAt = 0;

  constructor(
    private readonly db: Database,
    private readonly kind: string,
    maxAttempts: number,
    private readonly windowMs: number,
  ) {
    this.costMs = Math.ceil(windowMs / maxAttempts);
    this.capacityMs = this.costMs * maxAttempts;
    this.staleAfterMs = 2 * this.capacityMs;
  }

  async retryAfter(key: string, now = Date.now()): Promise<number> {
    const known = this.knownWait(key, now);
    if (known > 0) return known;
    return this.waitAfter(key, await readAttemptsDrainedAt(this.db.manager, this.kind, key), now);
  }

  async hit(key: string, now = Date.now()): Promise<AttemptWaits> {
    const known = this.knownWait(key, now);
    if (known > 0) return { before: known, after: known };
    const prune = now - this.prunedAt >= this.windowMs;
    if (prune) this.prunedAt = now;
    // Outside the read caches' generation: no cache reads this table.
    const drainedAt = await this.db.writeUncached(async (tx) => {
      if (prune) await pruneAttemptCounts(tx, this.kind, now);
      return countAttempt(tx, this.kind, key, now, this.costMs, this.staleAfterMs);
    });
    const after = this.waitAfter(key, drainedAt, now);
    // This attempt was within the limit if the bucket held it.
    return { before: drainedAt - now > this.capacityMs ? after : 0, after };
  }

  async reset(key: string, tx: EntityManager): Promise<void> {
    this.limitedUntil.delete(key);
    await clearAttempts(tx, this.kind, key);
  }

  /** Seconds until one more attempt fits in the bucket that drains at `drainedAt`. */
  private waitAfter(key: string, drainedAt: number, now: number): number {
    const until = drainedAt + this.costMs - this.capacityMs;
    if (until <= now || drainedAt - now > this.staleAfterMs) return 0;
    this.limitedUntil.set(key, until);
    if (this.limitedUntil.size > 10_000)
      for (const [other, at] of this.limitedUntil) if (at <= now) this.limitedUntil.delete(other);
    return Math.max(1, Math.ceil((until - now) / 1000));
  }

  private knownWait(key: string, now: number): number {
    const until = this.limitedUntil.get(key);
    return until !== undefined && until > now ? Math.max(1, Math.ceil((until - now) / 1000)) : 0;
  }
}
