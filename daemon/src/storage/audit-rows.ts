import type { EntityManager } from 'typeorm';
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

/** Rows per statement: SQLite binds at most 999 values, a row has 12. */
const ROWS_PER_STATEMENT = 80;

/**
 * Inserts audit rows with plain multi-row INSERTs: TypeORM's insert builds and checks entity
 * metadata for every row, which under a broker's load cost more than the rows' own writing.
 */
export async function insertAuditRows(tx: EntityManager, rows: AuditEventRow[]): Promise<void> {
  const row = `(${COLUMNS.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const batch = rows.slice(i, i + ROWS_PER_STATEMENT);
    await tx.query(
      `INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES ${batch.map(() => row).join(', ')}`,
      batch.flatMap((entry) => COLUMNS.map((column) => entry[column])),
    );
  }
}
