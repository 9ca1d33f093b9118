import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An MCP server's row names the keychain items of its secret variables and its credential, so that
 * an update writes new items beside the old ones and deletes the old only after its row commits
 * (a crash in between leaves the row with the secrets it was committed with). Rows written before
 * keep the items they had, under the names those were derived from.
 */
export class McpServerSecretAccounts1795399700000 implements MigrationInterface {
  name = 'McpServerSecretAccounts1795399700000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE mcp_servers ADD COLUMN secret_accounts TEXT NOT NULL DEFAULT '{}'`);
    await db.query(`ALTER TABLE mcp_servers ADD COLUMN credential_account TEXT`);
    await db.query(
      `UPDATE mcp_servers SET secret_accounts = (
         SELECT json_group_object(value, 'mcp-server-env:' || mcp_servers.id || ':' || value)
         FROM json_each(mcp_servers.secret_env))`,
    );
    await db.query(
      `UPDATE mcp_servers SET credential_account = 'mcp-server-credential:' || id WHERE has_credential = 1`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE mcp_servers DROP COLUMN credential_account`);
    await db.query(`ALTER TABLE mcp_servers DROP COLUMN secret_accounts`);
  }
}
