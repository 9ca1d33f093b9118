import { join } from 'node:path';
import pg from 'pg';
import sqlite3 from 'sqlite3';
import { DB_FILE } from '../home.js';
import { CHANGES_CHANNEL } from '../storage/replica-changes.js';

type Daemon = { home: string; databaseUrl?: string };

/** A second, independent connection to a test daemon's database: its SQLite file or its PostgreSQL database. */
async function connected<T>(
  daemon: Daemon,
  onPostgres: (client: pg.Client) => Promise<T>,
  onSqlite: (db: sqlite3.Database, done: (error: Error | null, result?: T) => void) => void,
): Promise<T> {
  if (daemon.databaseUrl) {
    const client = new pg.Client({ connectionString: daemon.databaseUrl });
    await client.connect();
    try {
      return await onPostgres(client);
    } finally {
      await client.end();
    }
  }
  const db = new sqlite3.Database(join(daemon.home, DB_FILE));
  return new Promise<T>((resolve, reject) =>
    onSqlite(db, (error, result) => db.close(() => (error ? reject(error) : resolve(result as T)))),
  );
}

/**
 * Runs SQL (one statement or several) on a test daemon's database through a connection of its
 * own: what someone holding the database could do, or a way to make time pass for a row. On
 * PostgreSQL it announces the change as README's "How replicas agree" asks of any program writing
 * to the tables (SQLite's daemon sees another connection's commit by itself).
 */
export function sql(daemon: Daemon, statements: string): Promise<void> {
  return connected(
    daemon,
    // One simple query is one transaction: the notification is sent only if the statements commit.
    async (client) => void (await client.query(`${statements};\nNOTIFY ${CHANGES_CHANNEL}`)),
    (db, done) => db.exec(statements, (error) => done(error)),
  );
}

/** The rows of one SELECT on a test daemon's database, read through a connection of its own. */
export function sqlRows<T>(daemon: Daemon, select: string): Promise<T[]> {
  return connected(
    daemon,
    async (client) => (await client.query(select)).rows as T[],
    (db, done) => db.all(select, (error, rows: T[]) => done(error, rows)),
  );
}

/** `DROP TRIGGER` as each database spells it. */
export const dropTrigger = (daemon: Daemon, trigger: string, table: string): string =>
  daemon.databaseUrl ? `DROP TRIGGER ${trigger} ON ${table}` : `DROP TRIGGER ${trigger}`;

/**
 * A trigger that fails every update of `table`, as a full disk or a lost server would: for tests of
 * what a refused write leaves behind. Dropped with `dropTrigger(daemon, 'refuse_update', table)`.
 */
export const refuseUpdates = (daemon: Daemon, table: string): string =>
  daemon.databaseUrl
    ? `CREATE OR REPLACE FUNCTION refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$;
       CREATE TRIGGER refuse_update BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION refuse_update()`
    : `CREATE TRIGGER refuse_update BEFORE UPDATE ON ${table} BEGIN SELECT RAISE(ABORT, 'refused'); END`;
