import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `on_permission_change: revoke_tokens` is a business rule: it now lives in
 * `PermissionsService.permissionsChanged`, visible, tested and audited, so the trigger of 0006
 * that applied it silently goes. `down` puts the trigger back as 0006 made it.
 */
export class DropRevokeTokensTrigger1795398600000 implements MigrationInterface {
  name = 'DropRevokeTokensTrigger1795398600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER IF EXISTS agents_revoke_tokens_on_permission_change`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TRIGGER agents_revoke_tokens_on_permission_change
      AFTER UPDATE OF permissions_version ON agents
      WHEN NEW.on_permission_change = 'revoke_tokens' AND NEW.permissions_version <> OLD.permissions_version
      BEGIN
        UPDATE agent_sessions
          SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), revoked_reason = 'permissions changed'
          WHERE agent_id = NEW.id AND revoked_at IS NULL;
      END`);
  }
}
