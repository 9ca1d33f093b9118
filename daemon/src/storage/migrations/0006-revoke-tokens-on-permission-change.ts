import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `on_permission_change: revoke_tokens`: whenever such an agent's permissions version moves (a
 * grant, a role change, narrowed scopes, a suspension…), every open session of it ends, and with
 * it every refresh token: the agent must authenticate again with its key. With `notify` (the
 * default) only its access tokens stop, and a refresh gives it tokens with the new permissions.
 * A trigger, so that no place in the code that bumps the version can forget it.
 */
export class RevokeTokensOnPermissionChange1795398500000 implements MigrationInterface {
  name = 'RevokeTokensOnPermissionChange1795398500000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TRIGGER agents_revoke_tokens_on_permission_change
      AFTER UPDATE OF permissions_version ON agents
      WHEN NEW.on_permission_change = 'revoke_tokens' AND NEW.permissions_version <> OLD.permissions_version
      BEGIN
        UPDATE agent_sessions
          SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), revoked_reason = 'permissions changed'
          WHERE agent_id = NEW.id AND revoked_at IS NULL;
      END`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER agents_revoke_tokens_on_permission_change`);
  }
}
