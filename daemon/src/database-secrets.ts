import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { keyEncryptionKeys } from './config.js';
import { DB_FILE } from './home.js';
import { DatabaseSecretStore } from './secrets/database-store.js';
import type { SecretStore } from './secrets/secret-store.js';
import type { DatabaseTarget } from './storage/database.js';
import { readOnlyQuery } from './storage/read-only-query.js';
import { ReadOnlySealedSecretRows } from './storage/sealed-secret-rows.js';

/*
 * The daemon's database read by the CLI beside it, read-only: the daemon alone writes (and migrates).
 */

/**
 * The daemon's database: `GATEHOUSE_DATABASE_URL` as for the daemon, the SQLite file in `home`
 * otherwise; null when that file is not there.
 */
export function daemonDatabase(home: string, env: NodeJS.ProcessEnv = process.env): DatabaseTarget | null {
  if (env.GATEHOUSE_DATABASE_URL) return { postgres: env.GATEHOUSE_DATABASE_URL };
  const path = join(home, DB_FILE);
  return existsSync(path) ? { sqlite: path } : null;
}

/**
 * The database secret store of the daemon's database, opened read-only with the key-encryption
 * key from the environment (`GATEHOUSE_KEK_FILE` or `GATEHOUSE_KEK`), for the CLI: the same key
 * check as a start, and nothing written.
 */
export function openDatabaseSecretsReadOnly(
  target: DatabaseTarget,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SecretStore> {
  const { kek } = keyEncryptionKeys({}, env);
  return DatabaseSecretStore.open(new ReadOnlySealedSecretRows(readOnlyQuery(target)), kek);
}

/** The id of the agent `name` in the project of slug `project`; null when there is none. */
export async function agentIdByName(target: DatabaseTarget, project: string, name: string): Promise<string | null> {
  const rows = await readOnlyQuery(target)<{ id: string }>(
    'SELECT a.id AS id FROM agents a JOIN projects p ON p.id = a.project_id WHERE p.slug = ? AND a.name = ?',
    [project, name],
  );
  return rows[0]?.id ?? null;
}
