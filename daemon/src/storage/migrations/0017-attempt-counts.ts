import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Failed attempts per (kind, key), shared by the replicas of a team server: the per-address login
 * limit, the failed-authentication limits and the TOTP tries. A row holds the moment every attempt
 * counted so far has drained (`attempt-counter.ts`); a row past that moment counts nothing. A
 * single daemon on SQLite counts in memory and leaves this table empty.
 */
export class AttemptCounts1795399800000 implements MigrationInterface {
  name = 'AttemptCounts1795399800000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE attempt_counts (
      kind TEXT NOT NULL,
      key TEXT NOT NULL,
      drained_at BIGINT NOT NULL,
      PRIMARY KEY (kind, key))`);
    await db.query(`CREATE INDEX attempt_counts_drained ON attempt_counts (kind, drained_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE attempt_counts`);
  }
}
