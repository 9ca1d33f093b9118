import type { EntityManager } from 'typeorm';
import { SecretWrites } from '../secrets/secret-writes.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { Database } from '../storage/database.js';

/**
 * A database write whose keychain writes land with it: the secrets are written inside the
 * transaction (so a keychain failure rolls the rows back) and undone if the transaction fails.
 */
export async function writeWithSecrets<T>(
  db: Database,
  store: SecretStore,
  work: (tx: EntityManager, secrets: SecretWrites) => Promise<T>,
): Promise<T> {
  const secrets = new SecretWrites(store);
  try {
    return await db.write((tx) => work(tx, secrets));
  } catch (error) {
    await secrets.undo();
    throw error;
  }
}
