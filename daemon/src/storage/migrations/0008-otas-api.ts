import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What OTAS's API keeps beyond Gatehouse's own rows: a user's middle and last names (OTAS's
 * profile), a project's description, domain and creator, the key and notes of an agent session opened with a key (OTAS lists them), and the
 * project's backend SDK keys (`otas_<prefix>_…`, stored as sha-256 like every credential).
 */
export class OtasApi1795399200000 implements MigrationInterface {
  name = 'OtasApi1795399200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE users ADD COLUMN middle_name TEXT`);
    await db.query(`ALTER TABLE users ADD COLUMN last_name TEXT`);
    await db.query(`ALTER TABLE projects ADD COLUMN description TEXT`);
    await db.query(`ALTER TABLE projects ADD COLUMN domain TEXT`);
    await db.query(`ALTER TABLE projects ADD COLUMN created_by TEXT`);
    await db.query(`ALTER TABLE agent_sessions ADD COLUMN key_id TEXT`);
    await db.query(`ALTER TABLE agent_sessions ADD COLUMN meta TEXT`);
    await db.query(`CREATE INDEX agent_sessions_agent_created ON agent_sessions (agent_id, created_at)`);
    await db.query(`CREATE TABLE sdk_keys (
      id TEXT PRIMARY KEY,
      project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      name TEXT,
      prefix TEXT NOT NULL UNIQUE,
      secret_hash TEXT NOT NULL,
      created_by TEXT,
      created_at TEXT NOT NULL,
      expires_at TEXT,
      last_used_at TEXT,
      revoked_at TEXT)`);
    await db.query(`CREATE INDEX sdk_keys_project ON sdk_keys (project_id, created_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE sdk_keys`);
    await db.query(`DROP INDEX agent_sessions_agent_created`);
    await db.query(`ALTER TABLE agent_sessions DROP COLUMN meta`);
    await db.query(`ALTER TABLE agent_sessions DROP COLUMN key_id`);
    await db.query(`ALTER TABLE projects DROP COLUMN created_by`);
    await db.query(`ALTER TABLE projects DROP COLUMN domain`);
    await db.query(`ALTER TABLE projects DROP COLUMN description`);
    await db.query(`ALTER TABLE users DROP COLUMN last_name`);
    await db.query(`ALTER TABLE users DROP COLUMN middle_name`);
  }
}
