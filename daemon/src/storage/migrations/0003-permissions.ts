import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The server's tool registry, capability roles and their assignment to agents; agent sessions
 * remember the scopes they were granted, so a refresh never widens them.
 */
export class Permissions1795398200000 implements MigrationInterface {
  name = 'Permissions1795398200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE tools (
      name TEXT PRIMARY KEY,
      description TEXT,
      created_at TEXT NOT NULL)`);

    await db.query(`CREATE TABLE capability_roles (
      name TEXT PRIMARY KEY,
      description TEXT,
      tools TEXT NOT NULL DEFAULT '[]',
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL)`);

    await db.query(`CREATE TABLE agent_roles (
      agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
      role TEXT NOT NULL REFERENCES capability_roles(name) ON DELETE CASCADE,
      created_at TEXT NOT NULL,
      PRIMARY KEY (agent_id, role))`);
    await db.query(`CREATE INDEX agent_roles_role ON agent_roles (role)`);

    await db.query(`ALTER TABLE agent_sessions ADD COLUMN scopes TEXT`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE agent_sessions DROP COLUMN scopes`);
    await db.query(`DROP TABLE agent_roles`);
    await db.query(`DROP TABLE capability_roles`);
    await db.query(`DROP TABLE tools`);
  }
}
