import type { MigrationInterface, QueryRunner } from 'typeorm';

export const CREATE_REVOKE_TOKENS_TRIGGER = [
  `CREATE FUNCTION agents_revoke_tokens_on_permission_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE agent_sessions
        SET revoked_at = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            revoked_reason = 'permissions changed'
        WHERE agent_id = NEW.id AND revoked_at IS NULL;
      RETURN NULL;
    END $$`,
  `CREATE TRIGGER agents_revoke_tokens_on_permission_change
    AFTER UPDATE OF permissions_version ON agents FOR EACH ROW
    WHEN (NEW.on_permission_change = 'revoke_tokens' AND NEW.permissions_version <> OLD.permissions_version)
    EXECUTE FUNCTION agents_revoke_tokens_on_permission_change()`,
];

/** PostgreSQL's twin of ../0006-revoke-tokens-on-permission-change.ts (a trigger function). */
export class RevokeTokensOnPermissionChange1795398500000 implements MigrationInterface {
  name = 'RevokeTokensOnPermissionChange1795398500000';

  async up(db: QueryRunner): Promise<void> {
    for (const statement of CREATE_REVOKE_TOKENS_TRIGGER) await db.query(statement);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER agents_revoke_tokens_on_permission_change ON agents`);
    await db.query(`DROP FUNCTION agents_revoke_tokens_on_permission_change()`);
  }
}
