import type { Database } from '../../storage/database.js';
import { leaseUsage, returnUsage, type UsageBudget } from '../../storage/limit-entities.js';

/**
 * Uses leased at a time: a fiftieth of the budget, from 1 to 100. A budget of 50 or less is leased
 * one use at a time, so every use it allows is spent by some replica; a larger one lets a replica
 * spend up to that many without asking the database.
 */
export const leaseSize = (cap: number): number => Math.min(100, Math.max(1, Math.floor(cap / 50)));

const keyOf = (budget: UsageBudget) => `${budget.limitId} ${budget.budget} ${budget.period}`;

/**
 * The shares of usage-limit budgets this replica holds (PostgreSQL, several replicas): each is
 * leased from the budget's shared row with one locked update that never goes past the cap, spent
 * in memory, and what is left of it given back at every flush. The replicas together never let
 * more than a budget through. What a replica holds unspent is not available to the others until it
 * gives it back (within a second); a replica that dies loses it: at most `leaseSize` uses of each
 * budget it held, until the budget's period ends.
 */
export class UsageLeases {
  /** `leased`: the uses of the budget every replica had leased when this replica last leased some. */
  private readonly held = new Map<string, { budget: UsageBudget; left: number; leased: number }>();
  private readonly leasing = new Map<string, Promise<number>>();

  constructor(private readonly db: Database) {}

  /** Whether a use of `budget` is held here. */
  has(budget: UsageBudget): boolean {
    return (this.held.get(keyOf(budget))?.left ?? 0) > 0;
  }

  /** The uses of `budget` leased here and not spent yet. */
  unspent(budget: UsageBudget): number {
    return this.held.get(keyOf(budget))?.left ?? 0;
  }

  /**
   * The uses of `budget` left to every replica, as far as this one knows: other replicas' leases
   * count as spent, and what they spent or gave back since this replica last leased is not seen.
   */
  leftOf(budget: UsageBudget): number {
    const entry = this.held.get(keyOf(budget));
    return entry ? budget.cap - entry.leased + entry.left : budget.cap;
  }

  /** Spends a held use of `budget` (`has` said there is one). */
  spend(budget: UsageBudget): void {
    this.held.get(keyOf(budget))!.left--;
  }

  /**
   * Leases more of `budget` and resolves to how many uses were granted: 0 when none is left to any
   * replica. Callers asking at once share one lease.
   */
  lease(budget: UsageBudget): Promise<number> {
    const key = keyOf(budget);
    let pending = this.leasing.get(key);
    if (!pending) {
      pending = this.db
        .writeUncached((tx) => leaseUsage(tx, budget, leaseSize(budget.cap)))
        .then(({ granted, used }) => {
          const entry = this.held.get(key) ?? { budget, left: 0, leased: 0 };
          entry.left += granted;
          entry.leased = used;
          this.held.set(key, entry);
          return granted;
        })
        .finally(() => this.leasing.delete(key));
      this.leasing.set(key, pending);
    }
    return pending;
  }

  /** Gives back every unspent use. */
  async settle(): Promise<void> {
    const unspent = [...this.held.values()].filter((entry) => entry.left > 0).map((entry) => ({ ...entry }));
    this.held.clear();
    if (unspent.length === 0) return;
    await this.db.writeUncached(async (tx) => {
      for (const entry of unspent) await returnUsage(tx, entry.budget, entry.left);
    });
  }
}
