import sqlite3 from 'sqlite3';
import { numberPlaceholders, type DatabaseTarget } from './database.js';
import { loadPg } from './replica-changes.js';

/** Runs one SELECT (with `?` placeholders) and returns its rows. */
export type ReadOnlyQuery = <T>(sql: string, parameters: unknown[]) => Promise<T[]>;

/**
 * Reads the daemon's database with a short read-only connection per query, for the CLI beside a
 * running daemon, which alone writes (and migrates).
 */
export function readOnlyQuery(target: DatabaseTarget): ReadOnlyQuery {
  if ('postgres' in target) {
    return async <T>(sql: string, parameters: unknown[]) => {
      const { Client } = await loadPg();
      const client = new Client({
        connectionString: target.postgres,
        options: '-c default_transaction_read_only=on',
      });
      await client.connect();
      try {
        return (await client.query(numberPlaceholders(sql), parameters)).rows as T[];
      } finally {
        await client.end();
      }
    };
  }
  return <T>(sql: string, parameters: unknown[]) =>
    new Promise<T[]>((resolve, reject) => {
      const db = new sqlite3.Database(target.sqlite, sqlite3.OPEN_READONLY, (openError) => {
        if (openError) return reject(openError);
        db.all(sql, parameters, (error, rows: T[]) => {
          db.close();
          if (error) reject(error);
          else resolve(rows);
        });
      });
    });
}
