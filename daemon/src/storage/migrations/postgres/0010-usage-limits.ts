import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * PostgreSQL's twin of ../0010-usage-limits.ts (BIGINT epoch milliseconds, coalesce for ifnull).
 *
 * Usage limits per agent, per key and per connection grant, and their counters. Counters are
 * kept in memory and saved here in batches (`UsageLimitsService`), never on a request's path.
 */
export class UsageLimits1795399000100 implements MigrationInterface {
  name = 'UsageLimits1795399000100';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE usage_limits (
      id TEXT PRIMARY KEY,
      project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
      key_id TEXT REFERENCES agent_keys(id) ON DELETE CASCADE,
      connection TEXT,
      windows TEXT NOT NULL DEFAULT '[]',
      remaining INTEGER,
      refill TEXT,
      expires_at TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL)`);
    await db.query(
      `CREATE UNIQUE INDEX usage_limits_subject ON usage_limits (agent_id, coalesce(key_id, ''), coalesce(connection, ''))`,
    );
    await db.query(`CREATE TABLE usage_counters (
      limit_id TEXT PRIMARY KEY REFERENCES usage_limits(id) ON DELETE CASCADE,
      windows TEXT NOT NULL,
      remaining INTEGER,
      refilled_at BIGINT NOT NULL,
      saved_at TEXT NOT NULL)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE usage_counters`);
    await db.query(`DROP TABLE usage_limits`);
  }
}
