import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { DB_FILE } from '../home.js';

/**
 * Runs SQL on a test daemon's database file through a second, independent connection: what
 * someone holding the file could do, or a way to make time pass for a row.
 */
export function sql(daemon: { home: string }, statement: string): Promise<void> {
  const db = new sqlite3.Database(join(daemon.home, DB_FILE));
  return new Promise((resolve, reject) => {
    db.exec(statement, (error) => db.close(() => (error ? reject(error) : resolve())));
  });
}

/** Reads rows from a test daemon's database file through a second, independent connection. */
export function sqlRows<T>(daemon: { home: string }, statement: string): Promise<T[]> {
  const db = new sqlite3.Database(join(daemon.home, DB_FILE));
  return new Promise((resolve, reject) => {
    db.all(statement, (error, rows) => db.close(() => (error ? reject(error) : resolve(rows as T[]))));
  });
}
