import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The narrowing a grant of a connection may carry: methods and path patterns for one agent's
 * direct grant, or for one role holding the connection. No row: the grant has the connection's
 * own rules. Rows go with their connection, agent or role.
 */
export class ConnectionGrantRules1795399600000 implements MigrationInterface {
  name = 'ConnectionGrantRules1795399600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE connection_grant_rules (
      id TEXT PRIMARY KEY,
      connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
      agent_id TEXT REFERENCES agents(id) ON DELETE CASCADE,
      role TEXT REFERENCES capability_roles(name) ON DELETE CASCADE,
      allowed_methods TEXT NOT NULL,
      allowed_paths TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      CHECK ((agent_id IS NULL AND role IS NOT NULL) OR (agent_id IS NOT NULL AND role IS NULL)))`);
    await db.query(
      `CREATE UNIQUE INDEX connection_grant_rules_agent ON connection_grant_rules (connection_id, agent_id)`,
    );
    await db.query(`CREATE UNIQUE INDEX connection_grant_rules_role ON connection_grant_rules (connection_id, role)`);
    await db.query(`CREATE INDEX connection_grant_rules_by_agent ON connection_grant_rules (agent_id)`);
    await db.query(`CREATE INDEX connection_grant_rules_by_role ON connection_grant_rules (role)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE connection_grant_rules`);
  }
}
