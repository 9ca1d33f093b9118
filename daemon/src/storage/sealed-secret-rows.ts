import type { Database } from './database.js';
import type { ReadOnlyQuery } from './read-only-query.js';

/** One row of `sealed_secrets`: a secret sealed under its data key, the data key wrapped by a key-encryption key. */
export interface SealedSecretRow {
  account: string;
  kek_id: string;
  key_nonce: Buffer;
  key_tag: Buffer;
  wrapped_key: Buffer;
  nonce: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

export type WrappedDataKey = Pick<SealedSecretRow, 'kek_id' | 'key_nonce' | 'key_tag' | 'wrapped_key'>;

const COLUMNS = 'account, kek_id, key_nonce, key_tag, wrapped_key, nonce, tag, ciphertext';
const SELECT_ONE = `SELECT ${COLUMNS} FROM sealed_secrets WHERE account = ?`;
const SELECT_ACCOUNTS = 'SELECT account FROM sealed_secrets ORDER BY account';
/** One row per key-encryption key id: what the key check at open tries the key on. */
const SELECT_SAMPLES = `SELECT ${COLUMNS} FROM sealed_secrets
  WHERE account IN (SELECT min(account) FROM sealed_secrets GROUP BY kek_id)`;

/**
 * The rows of the database secret store. A write joins the caller's write transaction when there
 * is one (a connection's secret lands or rolls back with the connection's row) and is a
 * transaction of its own otherwise.
 */
export class SealedSecretRows {
  constructor(private readonly db: Database) {}

  async get(account: string): Promise<SealedSecretRow | null> {
    const rows: SealedSecretRow[] = await this.db.reader.query(SELECT_ONE, [account]);
    return rows[0] ?? null;
  }

  async put(row: SealedSecretRow): Promise<void> {
    await this.db.join((tx) =>
      tx.query(
        `INSERT INTO sealed_secrets (${COLUMNS}, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (account) DO UPDATE SET kek_id = excluded.kek_id, key_nonce = excluded.key_nonce,
           key_tag = excluded.key_tag, wrapped_key = excluded.wrapped_key, nonce = excluded.nonce,
           tag = excluded.tag, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at`,
        [
          row.account,
          row.kek_id,
          row.key_nonce,
          row.key_tag,
          row.wrapped_key,
          row.nonce,
          row.tag,
          row.ciphertext,
          Date.now(),
        ],
      ),
    );
  }

  async delete(account: string): Promise<boolean> {
    return this.db.join(async (tx) => {
      const found: unknown[] = await tx.query('SELECT 1 FROM sealed_secrets WHERE account = ?', [account]);
      if (found.length === 0) return false;
      await tx.query('DELETE FROM sealed_secrets WHERE account = ?', [account]);
      return true;
    });
  }

  async accounts(): Promise<string[]> {
    const rows: Array<{ account: string }> = await this.db.reader.query(SELECT_ACCOUNTS);
    return rows.map((row) => row.account);
  }

  /** The key-encryption keys (by id) that rows are wrapped under, with a row of each to try the key on. */
  async samplesByKey(): Promise<SealedSecretRow[]> {
    return this.db.reader.query(SELECT_SAMPLES);
  }

  /**
   * Re-wraps the data key of every row wrapped under `fromKekId`, in one transaction: a failure
   * on any row leaves every row as it was. On SQLite freed bytes are zeroed and the WAL is
   * emptied into the file afterwards, so the old wrapped keys are not left readable in free pages
   * or WAL frames. PostgreSQL has no such switch: old row versions stay in the table files and its
   * WAL until vacuumed and overwritten, readable only with the old key-encryption key.
   */
  async rewrap(fromKekId: string, rewrapKey: (row: SealedSecretRow) => WrappedDataKey): Promise<number> {
    const sqlite = this.db.driver === 'sqlite';
    if (sqlite) await this.db.source.query('PRAGMA secure_delete = ON');
    try {
      const count = await this.db.write(async (tx) => {
        const rows: SealedSecretRow[] = await tx.query(`SELECT ${COLUMNS} FROM sealed_secrets WHERE kek_id = ?`, [
          fromKekId,
        ]);
        for (const row of rows) {
          const wrapped = rewrapKey(row);
          await tx.query(
            'UPDATE sealed_secrets SET kek_id = ?, key_nonce = ?, key_tag = ?, wrapped_key = ? WHERE account = ?',
            [wrapped.kek_id, wrapped.key_nonce, wrapped.key_tag, wrapped.wrapped_key, row.account],
          );
        }
        return rows.length;
      });
      if (sqlite) await this.db.source.query('PRAGMA wal_checkpoint(TRUNCATE)');
      return count;
    } finally {
      if (sqlite) await this.db.source.query('PRAGMA secure_delete = OFF');
    }
  }
}

/**
 * The same rows read through a read-only connection per read: for the CLI's `secret get` and
 * `run`, beside a running daemon, which alone writes (and migrates).
 */
export class ReadOnlySealedSecretRows {
  constructor(private readonly all: ReadOnlyQuery) {}

  async get(account: string): Promise<SealedSecretRow | null> {
    return (await this.all<SealedSecretRow>(SELECT_ONE, [account]))[0] ?? null;
  }

  async accounts(): Promise<string[]> {
    return (await this.all<{ account: string }>(SELECT_ACCOUNTS, [])).map((row) => row.account);
  }

  samplesByKey(): Promise<SealedSecretRow[]> {
    return this.all(SELECT_SAMPLES, []);
  }

  put(): Promise<void> {
    return Promise.reject(new Error('The database secret store is open read-only here.'));
  }

  delete(): Promise<boolean> {
    return Promise.reject(new Error('The database secret store is open read-only here.'));
  }

  rewrap(): Promise<number> {
    return Promise.reject(new Error('The database secret store is open read-only here.'));
  }
}
