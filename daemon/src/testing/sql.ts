import { join } from 'node:path';
import pg from 'pg';
import sqlite3 from 'sqlite3';
import { DB_FILE } from '../home.js';

/**
 * Runs SQL on a test daemon's database (its SQLite file, or its PostgreSQL database) through a
 * second, independent connection: what someone holding the database could do, or a way to make
 * time pass for a row.
 */
export async function sql(daemon: { home: string; databaseUrl?: string }, statement: string): Promise<void> {
  if (daemon.databaseUrl) {
    const client = new pg.Client({ connectionString: daemon.databaseUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
    return;
  }
  const db = new sqlite3.Database(join(daemon.home, DB_FILE));
  return new Promise((resolve, reject) => {
    db.exec(statement, (error) => db.close(() => (error ? reject(error) : resolve())));
  });
}
