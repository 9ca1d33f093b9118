import { randomBytes } from 'node:crypto';
import { DatabaseSecretStore } from '../secrets/database-store.js';
import { readKeyEncryptionKey } from '../secrets/key-encryption-key.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { Database } from '../storage/database.js';
import { SealedSecretRows } from '../storage/sealed-secret-rows.js';
import { createTestDatabase } from './test-database.js';

export interface ReplicaDatabase {
  db: Database;
  secrets: SecretStore;
}

/**
 * `count` replicas' databases on one fresh PostgreSQL database on `server`, each with its own
 * connections and its database secret store under one key-encryption key, as team mode runs
 * them; `url` is the database's (for a program beside them); `dispose` closes them and drops the database.
 */
export async function replicaDatabases(
  server: string,
  count: number,
): Promise<{ replicas: ReplicaDatabase[]; url: string; dispose: () => Promise<void> }> {
  const database = await createTestDatabase(server);
  const kek = readKeyEncryptionKey({ base64: randomBytes(32).toString('base64'), variable: 'GATEHOUSE_KEK' });
  const dbs: Database[] = [];
  const dispose = async () => {
    await Promise.all(dbs.map((db) => db.close()));
    await database.drop();
  };
  try {
    // One after the other: migrating is not what these replicas race on.
    for (let i = 0; i < count; i++) dbs.push(await Database.open({ postgres: database.url }));
    const replicas = await Promise.all(
      dbs.map(async (db) => ({ db, secrets: await DatabaseSecretStore.open(new SealedSecretRows(db), kek) })),
    );
    return { replicas, url: database.url, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}
