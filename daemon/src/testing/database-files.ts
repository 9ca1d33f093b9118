import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { DB_FILE } from '../home.js';

/**
 * Every file under `dir`, recursively. A running PostgreSQL removes files of its own as it goes
 * (its relation-cache file `pg_internal.init`, temporary files, recycled write-ahead log segments):
 * one that vanishes while the walk passes is not listed.
 */
export function filesUnder(dir: string): string[] {
  return (vanishedAsNull(() => readdirSync(dir)) ?? []).flatMap((name) => {
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) return [];
    return stat.isDirectory() ? filesUnder(path) : [path];
  });
}

/**
 * The files' contents as they are now, each beside its path. A file removed since it was listed
 * (see `filesUnder`) is left out: its bytes are no longer anywhere to be read.
 */
export function readFiles(paths: string[]): [path: string, bytes: Buffer][] {
  return paths.flatMap((path) => {
    const bytes = vanishedAsNull(() => readFileSync(path));
    return bytes ? [[path, bytes] as [string, Buffer]] : [];
  });
}

function vanishedAsNull<T>(read: () => T): T | null {
  try {
    return read();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
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

/** Whether `path` is one of the files `databaseFiles` lists (on either database). */
export function isDatabaseFile(path: string): boolean {
  return path.endsWith(`/${DB_FILE}`) || path.endsWith(`/${DB_FILE}-wal`) || /\/base\/\d+\/|\/pg_wal\//.test(path);
}

/** The database's files, as someone holding a copy of them would read them. */
export async function databaseBytes(daemon: { home: string; databaseUrl?: string }): Promise<Buffer> {
  return Buffer.concat(readFiles(await databaseFiles(daemon)).map(([, bytes]) => bytes));
}

/** Every file the daemon's data is written to: its home (logs, and the SQLite database) and its PostgreSQL database's. */
export async function filesHoldingData(daemon: { home: string; databaseUrl?: string }): Promise<string[]> {
  return [...new Set([...filesUnder(daemon.home), ...(await databaseFiles(daemon))])];
}
