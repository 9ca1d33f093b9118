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
