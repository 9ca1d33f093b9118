import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DB_FILE } from '../home.js';
import { Database } from '../storage/database.js';

/*
 * With GATEHOUSE_TEST_DATABASE_URL set (scripts/with-postgres.sh sets it), every test daemon runs
 * on a PostgreSQL database of its own, created empty on that server for it and dropped when the
 * test disposes of the daemon. Without it, test daemons use SQLite in their home, as a desktop does.
 */

/** The server the test databases are made on, or undefined for SQLite. */
export const testDatabaseServer = (): string | undefined => process.env.GATEHOUSE_TEST_DATABASE_URL || undefined;

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

async function onServer<T>(server: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A new empty database on `server`. */
export async function createTestDatabase(server: string): Promise<TestDatabase> {
  const name = `gatehouse_test_${randomBytes(6).toString('hex')}`;
  await onServer(server, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    // FORCE: a daemon killed mid-test may have left connections open.
    drop: () =>
      onServer(server, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}

/** A migrated SQLite database in a directory of its own; `dispose` closes it and removes the directory. */
export async function openTempSqlite(): Promise<{ db: Database; dispose: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-db-'));
  const db = await Database.open({ sqlite: join(dir, DB_FILE) });
  return {
    db,
    dispose: async () => {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
