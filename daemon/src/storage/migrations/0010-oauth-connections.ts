import type { MigrationInterface, QueryRunner } from 'typeorm';

/** OAuth connections: the provider's endpoints and client; the refresh token is a keychain item. */
export class OAuthConnections1795399000200 implements MigrationInterface {
  name = 'OAuthConnections1795399000200';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE connections ADD COLUMN oauth TEXT`);
    await db.query(`ALTER TABLE connections ADD COLUMN connected_at TEXT`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE connections DROP COLUMN connected_at`);
    await db.query(`ALTER TABLE connections DROP COLUMN oauth`);
  }
}
