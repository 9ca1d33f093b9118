import type { EntityManager } from 'typeorm';
import type { ReadManager } from './database.js';

/**
 * Counts one attempt of (kind, key) that takes `costMs` to drain, and returns the moment all its
 * attempts will have drained (epoch ms): later than `now` by the cost of those not drained yet. The
 * upsert is one statement, so attempts racing on several replicas all count; the read after it
 * sees this transaction's own row, which stays locked until the transaction ends.
 */
export async function countAttempt(
  tx: EntityManager,
  kind: string,
  key: string,
  now: number,
  costMs: number,
  staleAfterMs: number,
): Promise<number> {
  // A level further ahead than `staleAfterMs` was written by a clock that has since gone back (or
  // a replica's clock far ahead): counted from now, or it would lock the key out until that time.
  await tx.query(
    `INSERT INTO attempt_counts (kind, key, drained_at) VALUES (?, ?, CAST(? AS BIGINT))
     ON CONFLICT (kind, key) DO UPDATE SET drained_at = CAST(? AS BIGINT) +
       CASE WHEN attempt_counts.drained_at > CAST(? AS BIGINT) AND attempt_counts.drained_at <= CAST(? AS BIGINT)
         THEN attempt_counts.drained_at ELSE CAST(? AS BIGINT) END`,
    [kind, key, now + costMs, costMs, now, now + staleAfterMs, now],
  );
  return readAttemptsDrainedAt(tx, kind, key);
}

/** When (kind, key)'s attempts will have drained (epoch ms), 0 for none counted. */
export async function readAttemptsDrainedAt(manager: ReadManager, kind: string, key: string): Promise<number> {
  const rows: Array<{ drained_at: number }> = await manager.query(
    'SELECT drained_at FROM attempt_counts WHERE kind = ? AND key = ?',
    [kind, key],
  );
  return Number(rows[0]?.drained_at ?? 0);
}

export async function clearAttempts(tx: EntityManager, kind: string, key: string): Promise<void> {
  await tx.query('DELETE FROM attempt_counts WHERE kind = ? AND key = ?', [kind, key]);
}

/** Deletes the rows of `kind` that count nothing any more. */
export async function pruneAttemptCounts(tx: EntityManager, kind: string, now: number): Promise<void> {
  await tx.query('DELETE FROM attempt_counts WHERE kind = ? AND drained_at <= CAST(? AS BIGINT)', [kind, now]);
}
