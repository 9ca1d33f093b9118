import type { EntityManager } from 'typeorm';
import type { Driver } from './database.js';
import type { AuditEventRow } from './entities.js';

const COLUMNS = [
  'sequence_number',
  'at',
  'event_type',
  'actor',
  'agent_id',
  'target',
  'project_id',
  'source',
  'outcome',
  'metadata',
  'previous_hash',
  'entry_hash',
] as const satisfies ReadonlyArray<keyof AuditEventRow>;

/** Rows per statement on PostgreSQL, whose driver binds every value: a row has 12. */
const ROWS_PER_STATEMENT = 80;

/** On SQLite, each row's values are read from one JSON array of rows, in `COLUMNS` order. */
const FROM_JSON = COLUMNS.map((_, i) => `json_extract(value, '$[${i}]')`).join(', ');

/**
 * Inserts audit rows with plain INSERTs: TypeORM's insert builds and checks entity metadata for
 * every row, which under a broker's load cost more than the rows' own writing. On SQLite the rows
 * go as one JSON parameter: node-sqlite3 binding each of a batch's values one by one was about a
 * third of an audit row's cost.
 */
export async function insertAuditRows(tx: EntityManager, rows: AuditEventRow[], driver: Driver): Promise<void> {
  if (driver === 'sqlite') {
    await tx.query(`INSERT INTO audit_events (${COLUMNS.join(', ')}) SELECT ${FROM_JSON} FROM json_each(?)`, [
      JSON.stringify(rows.map((entry) => COLUMNS.map((column) => entry[column]))),
    ]);
    return;
  }
  const row = `(${COLUMNS.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const batch = rows.slice(i, i + ROWS_PER_STATEMENT);
    await tx.query(
      `INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES ${batch.map(() => row).join(', ')}`,
      batch.flatMap((entry) => COLUMNS.map((column) => entry[column])),
    );
  }
}

/**
 * Holds the end of the chain until `tx` ends, so the appends of several daemons on one PostgreSQL
 * database land one after the other, each after the hash the one before it wrote (a transaction
 * advisory lock; the chain's last row is read after it is taken). On SQLite the one writer at a
 * time already does this.
 */
export async function lockChainEnd(tx: EntityManager, driver: Driver): Promise<void> {
  if (driver === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(hashtext(?))', ['gatehouse.audit_chain']);
}
