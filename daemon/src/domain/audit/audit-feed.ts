import { MoreThan } from 'typeorm';
import type { AuditEvent } from '@gatehouse/shared';
import type { Database } from '../../storage/database.js';
import { AuditEventEntity } from '../../storage/entities.js';
import { toAuditEvent } from './audit-log.js';

type Listener = (events: AuditEvent[]) => void;

/** How often the feed looks for new audit events while someone listens. */
const POLL_MS = 250;
const BATCH = 500;

/**
 * Announces audit events after they commit. Every change worth showing live (agents, keys,
 * approvals, workflows, users) is audited in the same transaction as the change itself, so
 * following the audit log's sequence numbers gives a feed that never announces a change that
 * was rolled back. It only polls while at least one listener is subscribed.
 */
export class AuditFeed {
  private readonly listeners = new Set<Listener>();
  private readonly closers = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;
  private last = 0;
  private polling = false;
  private closed = false;

  constructor(private readonly db: Database) {}

  /** Calls `listener` with each batch of new events; returns the unsubscribe function. */
  async subscribe(listener: Listener): Promise<() => void> {
    if (this.closed) return () => undefined;
    if (this.listeners.size === 0) {
      const newest = await this.db.manager.findOne(AuditEventEntity, { where: {}, order: { sequence_number: 'DESC' } });
      this.last = newest?.sequence_number ?? 0;
      if (this.closed) return () => undefined; // closed while reading
      this.timer = setInterval(() => void this.poll(), POLL_MS);
    }
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
  }

  /** Committed events after `sequence`, oldest first (at most `limit`): what a reconnecting client missed. */
  async since(sequence: number, limit: number): Promise<AuditEvent[]> {
    const rows = await this.db.manager.find(AuditEventEntity, {
      where: { sequence_number: MoreThan(sequence) },
      order: { sequence_number: 'ASC' },
      take: limit,
    });
    return rows.map(toAuditEvent);
  }

  /** Runs `callback` when the feed closes (the daemon shuts down), or now if it has. */
  onClose(callback: () => void): () => void {
    if (this.closed) {
      callback();
      return () => undefined;
    }
    this.closers.add(callback);
    return () => this.closers.delete(callback);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.listeners.clear();
    for (const callback of this.closers) callback();
    this.closers.clear();
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const rows = await this.db.manager.find(AuditEventEntity, {
        where: { sequence_number: MoreThan(this.last) },
        order: { sequence_number: 'ASC' },
        take: BATCH,
      });
      if (rows.length === 0) return;
      this.last = rows[rows.length - 1]!.sequence_number;
      const events = rows.map(toAuditEvent);
      for (const listener of this.listeners) listener(events);
    } catch {
      // The database is closing; the next tick (if any) tries again.
    } finally {
      this.polling = false;
    }
  }
}
