import { EntitySchema, type EntityManager } from 'typeorm';
import type { LimitWindow } from '@gatehouse/shared';
import { nullableText, text } from './entities.js';
import type { ReadManager } from './database.js';

export interface UsageLimitRow {
  id: string;
  project_id: string;
  agent_id: string;
  key_id: string | null;
  connection: string | null;
  windows: LimitWindow[];
  /** The uses the admin set (the live count is the counter's). */
  remaining: number | null;
  refill: { amount: number; interval_seconds: number } | null;
  expires_at: string | null;
  created_at: string;
  updated_at: string;
}
export const UsageLimitEntity = new EntitySchema<UsageLimitRow>({
  name: 'UsageLimit',
  tableName: 'usage_limits',
  columns: {
    id: { ...text, primary: true },
    project_id: text,
    agent_id: text,
    key_id: nullableText,
    connection: nullableText,
    windows: { type: 'simple-json' },
    remaining: { type: 'integer', nullable: true },
    refill: { type: 'simple-json', nullable: true },
    expires_at: nullableText,
    created_at: text,
    updated_at: text,
  },
});

export const limitEntities = [UsageLimitEntity];

/** A limit's counters as saved: window starts and uses, remaining uses, last refill (epoch ms). */
export interface UsageCounterRow {
  limit_id: string;
  windows: Record<string, { start: number; used: number }>;
  remaining: number | null;
  refilled_at: number;
}

export async function readUsageCounters(manager: ReadManager): Promise<UsageCounterRow[]> {
  const rows: Array<{ limit_id: string; windows: string; remaining: number | null; refilled_at: number }> =
    await manager.query('SELECT limit_id, windows, remaining, refilled_at FROM usage_counters');
  return rows.map((row) => ({ ...row, windows: JSON.parse(row.windows) as UsageCounterRow['windows'] }));
}

/** Saves counters; a counter whose limit is gone is skipped (its row went with the limit). */
export async function saveUsageCounters(
  tx: EntityManager,
  counters: UsageCounterRow[],
  savedAt: string,
): Promise<void> {
  for (const counter of counters)
    await tx.query(
      `INSERT INTO usage_counters (limit_id, windows, remaining, refilled_at, saved_at)
       SELECT ?, ?, CAST(? AS INTEGER), CAST(? AS BIGINT), ? WHERE EXISTS (SELECT 1 FROM usage_limits WHERE id = ?)
       ON CONFLICT (limit_id) DO UPDATE SET windows = excluded.windows, remaining = excluded.remaining,
         refilled_at = excluded.refilled_at, saved_at = excluded.saved_at`,
      [
        counter.limit_id,
        JSON.stringify(counter.windows),
        counter.remaining,
        counter.refilled_at,
        savedAt,
        counter.limit_id,
      ],
    );
}

/** One shared budget of a limit: a window (`period` its start) or the remaining uses of one refill period. */
export interface UsageBudget {
  limitId: string;
  /** Names the budget within its limit, and the limit's version: a limit set anew starts afresh. */
  budget: string;
  period: number;
  /** The uses the budget allows in its period. */
  cap: number;
}

/**
 * Leases up to `wanted` uses of `budget`, as many as are left of its cap; returns how many, and
 * the uses leased of the budget by every replica once they are.
 * PostgreSQL only (`FOR UPDATE`): the row stays locked until the transaction ends, so replicas
 * leasing at once never hand out more than the cap between them.
 */
export async function leaseUsage(
  tx: EntityManager,
  budget: UsageBudget,
  wanted: number,
): Promise<{ granted: number; used: number }> {
  const key = [budget.limitId, budget.budget, budget.period];
  // The budget's ended periods count nothing any more.
  await tx.query('DELETE FROM usage_counts WHERE limit_id = ? AND budget = ? AND period < ?', key);
  await tx.query(
    `INSERT INTO usage_counts (limit_id, budget, period, used)
     SELECT ?, ?, CAST(? AS BIGINT), 0 WHERE EXISTS (SELECT 1 FROM usage_limits WHERE id = ?)
     ON CONFLICT DO NOTHING`,
    [...key, budget.limitId],
  );
  const rows: Array<{ used: number }> = await tx.query(
    'SELECT used FROM usage_counts WHERE limit_id = ? AND budget = ? AND period = ? FOR UPDATE',
    key,
  );
  if (!rows[0]) return { granted: 0, used: budget.cap };
  const used = Number(rows[0].used);
  const granted = Math.max(0, Math.min(wanted, budget.cap - used));
  if (granted > 0)
    await tx.query('UPDATE usage_counts SET used = used + ? WHERE limit_id = ? AND budget = ? AND period = ?', [
      granted,
      ...key,
    ]);
  return { granted, used: used + granted };
}

/** Gives back uses leased and not spent. */
export async function returnUsage(tx: EntityManager, budget: UsageBudget, unused: number): Promise<void> {
  await tx.query('UPDATE usage_counts SET used = used - ? WHERE limit_id = ? AND budget = ? AND period = ?', [
    unused,
    budget.limitId,
    budget.budget,
    budget.period,
  ]);
}

/** The uses leased of each budget of a limit, by `budget` and `period`. */
export async function readUsageCounts(
  manager: ReadManager,
  limitId: string,
): Promise<Array<{ budget: string; period: number; used: number }>> {
  const rows: Array<{ budget: string; period: number; used: number }> = await manager.query(
    'SELECT budget, period, used FROM usage_counts WHERE limit_id = ?',
    [limitId],
  );
  return rows.map((row) => ({ budget: row.budget, period: Number(row.period), used: Number(row.used) }));
}
