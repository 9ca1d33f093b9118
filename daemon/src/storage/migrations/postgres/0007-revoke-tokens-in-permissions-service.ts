import type { MigrationInterface, QueryRunner } from 'typeorm';
import { CREATE_REVOKE_TOKENS_TRIGGER } from './0006-revoke-tokens-on-permission-change.js';

/** PostgreSQL's twin of ../0007-revoke-tokens-in-permissions-service.ts. */
export class DropRevokeTokensTrigger1795398600000 implements MigrationInterface {
  name = 'DropRevokeTokensTrigger1795398600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER IF EXISTS agents_revoke_tokens_on_permission_change ON agents`);
    await db.query(`DROP FUNCTION IF EXISTS agents_revoke_tokens_on_permission_change()`);
  }

  async down(db: QueryRunner): Promise<void> {
    for (const statement of CREATE_REVOKE_TOKENS_TRIGGER) await db.query(statement);
  }
}
