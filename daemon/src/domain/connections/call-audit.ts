import type { AuditEntry, AuditLog } from '../audit/audit-log.js';
import type { Database } from '../../storage/database.js';

/** How long a brokered call's record may wait before it is in the audit chain. */
export const CALL_AUDIT_FLUSH_MS = 200;
/** A batch this long is written at once rather than at the next tick. */
const FLUSH_AT = 500;

/**
 * Every brokered call is audited, but not with a transaction per call: records wait in memory
 * and are appended to the chain in one transaction every 200 ms (and on shutdown). The batch
 * goes through `Database.writeUncached`, so it leaves the read caches (credentials, grants,
 * connections) intact — a broker under load would otherwise empty them several times a second.
 */
export class CallAudit {
  private pending: AuditEntry[] = [];
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly onError: (error: unknown) => void,
  ) {
    this.timer = setInterval(() => void this.flush(), CALL_AUDIT_FLUSH_MS);
    this.timer.unref();
  }

  record(entry: AuditEntry): void {
    this.pending.push(entry);
    if (this.pending.length >= FLUSH_AT) void this.flush();
  }

  /** Writes what is pending; resolves once it is in the chain. Never rejects (failures go to `onError`). */
  flush(): Promise<void> {
    if (this.pending.length === 0) return this.flushing;
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.flushing
      .then(() => this.db.writeUncached((tx) => this.audit.appendAll(tx, batch)))
      .then(
        () => undefined,
        (error: unknown) => this.onError(error),
      );
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
