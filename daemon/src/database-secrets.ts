import { keyEncryptionKeys } from './config.js';
import { DatabaseSecretStore } from './secrets/database-store.js';
import type { SecretStore } from './secrets/secret-store.js';
import { ReadOnlySealedSecretRows } from './storage/sealed-secret-rows.js';

/**
 * The database secret store of the data directory's database, opened read-only with the
 * key-encryption key from the environment (`GATEHOUSE_KEK_FILE` or `GATEHOUSE_KEK`), for the CLI:
 * the same key check as a start, and nothing written.
 */
export function openDatabaseSecretsReadOnly(
  dbPath: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SecretStore> {
  const { kek } = keyEncryptionKeys({}, env);
  return DatabaseSecretStore.open(new ReadOnlySealedSecretRows(dbPath), kek);
}
