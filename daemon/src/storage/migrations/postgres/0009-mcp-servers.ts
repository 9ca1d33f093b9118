import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * PostgreSQL's twin of ../0009-mcp-servers.ts (BOOLEAN flags).
 *
 * MCP tool servers of a project. Secret environment values and the upstream credential live in
 * the keychain; the row holds only the names of the secret variables and whether a credential
 * exists. `tools` is the last discovered tool list, kept so the console shows it while the server
 * is down.
 */
export class McpServers1795398900000 implements MigrationInterface {
  name = 'McpServers1795398900000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE mcp_servers (
      id TEXT PRIMARY KEY,
      project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      name TEXT NOT NULL UNIQUE,
      transport TEXT NOT NULL CHECK (transport IN ('stdio', 'http')),
      command TEXT,
      args TEXT NOT NULL DEFAULT '[]',
      env TEXT NOT NULL DEFAULT '{}',
      secret_env TEXT NOT NULL DEFAULT '[]',
      url TEXT,
      has_credential BOOLEAN NOT NULL DEFAULT false,
      credential_header TEXT,
      enabled BOOLEAN NOT NULL DEFAULT true,
      status TEXT NOT NULL DEFAULT 'starting',
      last_error TEXT,
      tools TEXT NOT NULL DEFAULT '[]',
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      CHECK ((transport = 'stdio' AND command IS NOT NULL) OR (transport = 'http' AND url IS NOT NULL)))`);
    await db.query(`CREATE INDEX mcp_servers_project ON mcp_servers (project_id, name)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE mcp_servers`);
  }
}
