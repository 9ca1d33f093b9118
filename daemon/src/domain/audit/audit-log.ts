import { createHash } from 'node:crypto';
import { MoreThan, type EntityManager } from 'typeorm';
import type { AuditEvent, AuditOutcome, AuditQuery, AuditVerifyResult } from '@gatehouse/shared';
import { escapeLike, type Database } from '../../storage/database.js';
import { insertAuditRows, lockChainEnd } from '../../storage/audit-rows.js';
import { AuditEventEntity, type AuditEventRow } from '../../storage/entities.js';
import type { Actor } from '../actor.js';
import { ProblemError } from '../../errors.js';
import { pageCursor, readPageCursor } from '../page-cursor.js';

export interface AuditEntry {
  event_type: string;
  actor: Actor;
  outcome?: AuditOutcome;
  agent_id?: string | null;
  target?: string | null;
  project_id?: string | null;
  /** Context for readers. Never a secret: callers pass ids, names and reasons only. */
  metadata?: Record<string, unknown>;
  /** When it happened, for entries written later in a batch; now otherwise. */
  at?: string;
}

/** What a reader may see: one project's events, plus the global ones (logins, users) for user admins. */
export interface AuditScope {
  projectId: string;
  includeGlobal: boolean;
}

type Unhashed = Omit<AuditEventRow, 'entry_hash'>;

/** `sha256:<hex>` over the entry's fields in a fixed order, chained to the previous entry. */
export function hashEntry(entry: Unhashed): string {
  const fields = [
    entry.sequence_number,
    entry.at,
    entry.event_type,
    entry.actor,
    entry.agent_id,
    entry.target,
    entry.project_id,
    entry.source,
    entry.outcome,
    entry.metadata,
  ];
  return `sha256:${createHash('sha256')
    .update(`${entry.previous_hash ?? ''}\n${JSON.stringify(fields)}`)
    .digest('hex')}`;
}

/** The row that follows `last` in the chain. */
function chained(entry: AuditEntry, last: Pick<AuditEventRow, 'sequence_number' | 'entry_hash'> | null): AuditEventRow {
  const row: Unhashed = {
    sequence_number: (last?.sequence_number ?? 0) + 1,
    at: entry.at ?? new Date().toISOString(),
    event_type: entry.event_type,
    actor: entry.actor.label,
    agent_id: entry.agent_id ?? null,
    target: entry.target ?? null,
    project_id: entry.project_id ?? null,
    source: entry.actor.source,
    outcome: entry.outcome ?? 'success',
    metadata: JSON.stringify(entry.metadata ?? {}),
    previous_hash: last?.entry_hash ?? null,
  };
  return { ...row, entry_hash: hashEntry(row) };
}

const VERIFY_BATCH = 1000;

/**
 * The append-only, hash-chained audit log. Entries are appended inside the transaction of the
 * change they record (so a rolled-back change leaves no event), and writes are serialised by
 * `Database.write` (and across daemons on one PostgreSQL database by a lock on the chain's end),
 * so each entry's `previous_hash` is the true last hash.
 */
export class AuditLog {
  constructor(private readonly db: Database) {}

  /** Appends within an open write transaction. */
  async append(tx: EntityManager, entry: AuditEntry): Promise<AuditEventRow> {
    const [row] = await this.appendAll(tx, [entry]);
    return row!;
  }

  /** Appends `entries` in order within an open write transaction, reading the chain's end once. */
  async appendAll(tx: EntityManager, entries: AuditEntry[]): Promise<AuditEventRow[]> {
    await lockChainEnd(tx, this.db.driver);
    let last: Pick<AuditEventRow, 'sequence_number' | 'entry_hash'> | null = await tx.findOne(AuditEventEntity, {
      select: { sequence_number: true, entry_hash: true },
      where: {},
      order: { sequence_number: 'DESC' },
    });
    const rows: AuditEventRow[] = [];
    for (const entry of entries) {
      const row = chained(entry, last);
      rows.push(row);
      last = row;
    }
    await insertAuditRows(tx, rows, this.db.driver);
    return rows;
  }

  /** Appends in a transaction of its own (for events with no other change, like a failed login). */
  record(entry: AuditEntry): Promise<AuditEventRow> {
    return this.db.write((tx) => this.append(tx, entry));
  }

  /**
   * A page of the project's events, newest first, how many match, and the next page's cursor. New
   * events come first, so an offset's pages shift while the log grows; a cursor's page starts
   * below the sequence number it holds and stays put.
   */
  async list(
    query: AuditQuery,
    scope: AuditScope,
  ): Promise<{ items: AuditEvent[]; total: number; next: string | null }> {
    const before = query.cursor === undefined ? undefined : sequenceOf(readPageCursor(query.cursor, query.offset));
    const matching = (inScope: string) => {
      const q = this.db.manager.createQueryBuilder(AuditEventEntity, 'e').where(inScope, { project: scope.projectId });
      if (query.event_type?.endsWith('.*')) {
        q.andWhere(this.db.dialect.likeIgnoringCase('e.event_type', 'type'), {
          type: `${escapeLike(query.event_type.slice(0, -1))}%`,
        });
      } else if (query.event_type) {
        q.andWhere('e.event_type = :type', { type: query.event_type });
      }
      if (query.agent_id) q.andWhere('e.agent_id = :agent', { agent: query.agent_id });
      if (query.outcome) q.andWhere('e.outcome = :outcome', { outcome: query.outcome });
      if (query.after) q.andWhere('e.at > :after', { after: new Date(query.after).toISOString() });
      if (query.before) q.andWhere('e.at < :before', { before: new Date(query.before).toISOString() });
      return q;
    };
    const scopes = scope.includeGlobal
      ? ['e.project_id = :project', 'e.project_id IS NULL']
      : ['e.project_id = :project'];
    // Counted one part of the scope at a time: SQLite 3.52's planner fails ("internal query
    // planner error") on a COUNT over both parts' OR with an outcome, which the refusals' partial
    // index could serve. COUNT(*), not getCount()'s COUNT(DISTINCT …): half the time on an index.
    let total = 0;
    for (const inScope of scopes) {
      const counted = await matching(inScope).select('COUNT(*)', 'count').getRawOne<{ count: number | string }>();
      total += Number(counted?.count ?? 0);
    }
    const q = matching(scopes.length === 1 ? scopes[0]! : `(${scopes.join(' OR ')})`);
    if (before !== undefined) q.andWhere('e.sequence_number < :before_sequence', { before_sequence: before });
    const offset = before === undefined ? (query.offset ?? 0) : 0;
    const limit = query.limit ?? 20;
    // One row past the page says whether there is a next one.
    const rows = await q
      .orderBy('e.sequence_number', 'DESC')
      .skip(offset)
      .take(limit + 1)
      .getMany();
    const page = rows.slice(0, limit);
    return {
      items: page.map(toAuditEvent),
      total,
      next: rows.length > limit ? pageCursor(String(page.at(-1)!.sequence_number)) : null,
    };
  }

  /** Recomputes every hash and link, in batches so memory stays flat on a long log. */
  async verify(): Promise<AuditVerifyResult> {
    let checked = 0;
    let first: number | null = null;
    let previous: AuditEventRow | null = null;
    for (;;) {
      const batch: AuditEventRow[] = await this.db.manager.find(AuditEventEntity, {
        where: previous ? { sequence_number: MoreThan(previous.sequence_number) } : {},
        order: { sequence_number: 'ASC' },
        take: VERIFY_BATCH,
      });
      for (const row of batch) {
        const problem = checkLink(row, previous);
        if (problem) {
          return {
            is_valid: false,
            entries_checked: checked,
            break_point: row.sequence_number,
            error: problem,
            verified_at: new Date().toISOString(),
          };
        }
        first ??= row.sequence_number;
        previous = row;
        checked++;
      }
      if (batch.length < VERIFY_BATCH) break;
    }
    return {
      is_valid: true,
      entries_checked: checked,
      first_sequence: first,
      last_sequence: previous?.sequence_number ?? null,
      verified_at: new Date().toISOString(),
    };
  }
}

function checkLink(row: AuditEventRow, previous: AuditEventRow | null): string | null {
  const expectedSequence = previous ? previous.sequence_number + 1 : 1;
  if (row.sequence_number !== expectedSequence) {
    return `entry ${expectedSequence} is missing (found ${row.sequence_number} next)`;
  }
  if (row.previous_hash !== (previous?.entry_hash ?? null)) {
    return `entry ${row.sequence_number} does not link to the hash of entry ${expectedSequence - 1}`;
  }
  if (hashEntry(row) !== row.entry_hash) {
    return `entry ${row.sequence_number} was altered: its content does not match its hash`;
  }
  return null;
}

export function toAuditEvent(row: AuditEventRow): AuditEvent {
  return { ...row, metadata: JSON.parse(row.metadata) as Record<string, unknown> };
}

/** The sequence number a cursor of this list holds; `invalid_cursor` for any other key. */
function sequenceOf(key: string): number {
  const sequence = Number(key);
  if (!Number.isSafeInteger(sequence) || sequence < 1)
    throw new ProblemError(
      'invalid_cursor',
      'The cursor is not one this list gave out; start again from the first page.',
    );
  return sequence;
}
