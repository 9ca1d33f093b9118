import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * PostgreSQL's twin of ../0016-mcp-server-secret-accounts.ts (its JSON functions and BOOLEAN flag).
 *
 * An MCP server's row names the keychain items of its secret variables and its credential, so that
 * an update writes new items beside the old ones and deletes the old only after its row commits.
 * Rows written before keep the items they had, under the names those were derived from.
 */
export class McpServerSecretAccounts1795399700000 implements MigrationInterface {
  name = 'McpServerSecretAccounts1795399700000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE mcp_servers ADD COLUMN secret_accounts TEXT NOT NULL DEFAULT '{}'`);
    await db.query(`ALTER TABLE mcp_servers ADD COLUMN credential_account TEXT`);
    await db.query(
      `UPDATE mcp_servers SET secret_accounts = COALESCE((
         SELECT json_object_agg(env.name, 'mcp-server-env:' || mcp_servers.id || ':' || env.name)::text
         FROM json_array_elements_text(mcp_servers.secret_env::json) AS env(name)), '{}')`,
    );
    await db.query(`UPDATE mcp_servers SET credential_account = 'mcp-server-credential:' || id WHERE has_credential`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE mcp_servers DROP COLUMN credential_account`);
    await db.query(`ALTER TABLE mcp_servers DROP COLUMN secret_accounts`);
  }
}
