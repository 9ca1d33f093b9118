import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { DB_FILE } from '../home.js';

/** Every file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/**
 * The files a test daemon's database is written to on disk: the SQLite file and its write-ahead
 * log in its home or, on PostgreSQL, its database's directory and the server's write-ahead log
 * (the throwaway server of scripts/with-postgres.sh runs on this machine).
 */
export async function databaseFiles(daemon: { home: string; databaseUrl?: string }): Promise<string[]> {
  if (!daemon.databaseUrl) {
    const path = join(daemon.home, DB_FILE);
    return [path, `${path}-wal`].filter((file) => existsSync(file));
  }
  const client = new pg.Client({ connectionString: daemon.databaseUrl });
  await client.connect();
  try {
    // Written out, so the table files hold the rows too, not only the write-ahead log.
    await client.query('CHECKPOINT');
    const { rows } = await client.query<{ dir: string; oid: number }>(
      `SELECT current_setting('data_directory') AS dir, oid FROM pg_database WHERE datname = current_database()`,
    );
    const { dir, oid } = rows[0]!;
    return [...filesUnder(join(dir, 'base', String(oid))), ...filesUnder(join(dir, 'pg_wal'))];
  } finally {
    await client.end();
  }
}

/** The database's files, as someone holding a copy of them would read them. */
export async function databaseBytes(daemon: { home: string; databaseUrl?: string }): Promise<Buffer> {
  return Buffer.concat((await databaseFiles(daemon)).map((file) => readFileSync(file)));
}

/** Every file the daemon's data is written to: its home (logs, and the SQLite database) and its PostgreSQL database's. */
export async function filesHoldingData(daemon: { home: string; databaseUrl?: string }): Promise<string[]> {
  return [...new Set([...filesUnder(daemon.home), ...(await databaseFiles(daemon))])];
}
