import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Agents' requests for a human's approval before using an approval-required tool. */
export class Approvals1795398300000 implements MigrationInterface {
  name = 'Approvals1795398300000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE approval_requests (
      id TEXT PRIMARY KEY,
      agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
      project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      tool TEXT NOT NULL,
      summary TEXT NOT NULL,
      idempotency_key TEXT NOT NULL,
      status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      decided_by TEXT,
      decided_at TEXT,
      decision_note TEXT,
      UNIQUE (agent_id, idempotency_key))`);
    await db.query(`CREATE INDEX approval_requests_project ON approval_requests (project_id, status, created_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE approval_requests`);
  }
}
