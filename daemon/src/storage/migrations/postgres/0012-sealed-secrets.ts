import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * PostgreSQL's twin of ../0012-sealed-secrets.ts (BYTEA for BLOB, BIGINT epoch milliseconds).
 *
 * The database secret store (`--secret-store database`): each secret sealed with AES-256-GCM
 * under a data key of its own, the data key wrapped by the key-encryption key, which is never
 * stored here. `kek_id` names the key-encryption key that wrapped the row (a fingerprint, not
 * the key), so a start with another key is refused before anything is read or written.
 */
export class SealedSecrets1795399300000 implements MigrationInterface {
  name = 'SealedSecrets1795399300000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE sealed_secrets (
      account TEXT PRIMARY KEY NOT NULL,
      kek_id TEXT NOT NULL,
      key_nonce BYTEA NOT NULL,
      key_tag BYTEA NOT NULL,
      wrapped_key BYTEA NOT NULL,
      nonce BYTEA NOT NULL,
      tag BYTEA NOT NULL,
      ciphertext BYTEA NOT NULL,
      updated_at BIGINT NOT NULL
    )`);
    await db.query(`CREATE INDEX sealed_secrets_kek ON sealed_secrets (kek_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE sealed_secrets`);
  }
}
