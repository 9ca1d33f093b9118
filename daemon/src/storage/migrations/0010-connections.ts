import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Brokered upstream credentials. The secret itself is a keychain item (`secret_account`); a row
 * holds only where to find it.
 */
export class Connections1795399000000 implements MigrationInterface {
  name = 'Connections1795399000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE connections (
      id TEXT PRIMARY KEY,
      project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      name TEXT NOT NULL UNIQUE,
      base_url TEXT NOT NULL,
      injection TEXT NOT NULL,
      secret_account TEXT NOT NULL,
      allowed_methods TEXT NOT NULL DEFAULT '[]',
      allowed_paths TEXT NOT NULL DEFAULT '[]',
      description TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL)`);
    await db.query(`CREATE INDEX connections_project ON connections (project_id, name)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE connections`);
  }
}
