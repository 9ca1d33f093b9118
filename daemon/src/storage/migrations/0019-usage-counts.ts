import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The uses of each usage-limit budget (a window of a limit, or its remaining uses in one refill
 * period) that the replicas of a team server have leased between them (`usage-leases.ts`). A
 * single daemon on SQLite keeps its counters in `usage_counters` and leaves this table empty.
 */
export class UsageCounts1795400000000 implements MigrationInterface {
  name = 'UsageCounts1795400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE usage_counts (
      limit_id TEXT NOT NULL REFERENCES usage_limits(id) ON DELETE CASCADE,
      budget TEXT NOT NULL,
      period BIGINT NOT NULL,
      used INTEGER NOT NULL,
      PRIMARY KEY (limit_id, budget, period))`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE usage_counts`);
  }
}
