import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * PostgreSQL's twin of ../0011-oauth.ts (BIGINT epoch seconds).
 *
 * The OAuth authorization server's records (oidc-provider's models: codes, tokens, grants,
 * sessions, interactions, registered clients). A record is found by the SHA-256 of its id, never
 * by the id itself: for codes and tokens the id is the secret a client presents.
 */
export class OAuth1795399100000 implements MigrationInterface {
  name = 'OAuth1795399100000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE oauth_records (
      model TEXT NOT NULL,
      id_hash TEXT NOT NULL,
      payload TEXT NOT NULL,
      grant_id TEXT,
      uid TEXT,
      expires_at BIGINT,
      consumed_at BIGINT,
      PRIMARY KEY (model, id_hash)
    )`);
    await db.query(`CREATE INDEX oauth_records_grant ON oauth_records (grant_id) WHERE grant_id IS NOT NULL`);
    await db.query(`CREATE INDEX oauth_records_uid ON oauth_records (model, uid) WHERE uid IS NOT NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE oauth_records`);
  }
}
