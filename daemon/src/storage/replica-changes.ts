import { randomUUID } from 'node:crypto';
import type pg from 'pg';

/** The channel every replica's committed writes are announced on. */
export const CHANGES_CHANNEL = 'gatehouse_changes';

/**
 * What a commit changed: `data`, anything a read cache may hold; `use`, only when credentials were
 * last used (see `Database.recordUse`).
 */
export type Change = 'data' | 'use';

/** What a replica does with the other replicas' commits. */
export interface ChangeListeners {
  /** Another replica's write, a foreign program's `NOTIFY gatehouse_changes`, or a gap in listening. */
  changed(): void;
  /** Another replica's recorded uses. */
  used(): void;
}

/** Reconnecting the listening connection waits this long at first, doubling up to `RECONNECT_MAX_MS`. */
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5000;

/**
 * The other replicas' commits, as PostgreSQL notifications: each `Database.write` on PostgreSQL
 * sends one inside its transaction (`announce`), so it is delivered only if, and once, that
 * transaction commits; this replica holds one connection listening for them and calls `changed`
 * for every one another replica sent (`used` for one of recorded uses). Its own carry its
 * `replica` id and are skipped: its own writes move its generation already. A notification whose
 * payload is not a replica's (a program writing to the database itself sends
 * `NOTIFY gatehouse_changes` in its transaction) counts as a change of anything.
 */
export class ReplicaChanges {
  /** Names this process in the notifications it sends. */
  readonly replica = randomUUID();
  private client: pg.Client | undefined;
  private closed = false;
  private reconnectMs = RECONNECT_MIN_MS;
  private reconnect: NodeJS.Timeout | undefined;
  private readonly dead = new WeakSet<pg.Client>();
  /** The round trip in flight on the listening connection, and the one queued behind it. */
  private inFlight: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  private constructor(
    private readonly url: string,
    private readonly listeners: ChangeListeners,
  ) {}

  /** Listens from now on; resolves once the first connection listens (or failed to: then it retries). */
  static async listen(url: string, listeners: ChangeListeners): Promise<ReplicaChanges> {
    const changes = new ReplicaChanges(url, listeners);
    await changes.connect();
    return changes;
  }

  /** Whether notifications arrive now: while not, another replica's write can go unannounced. */
  get listening(): boolean {
    return this.client !== undefined;
  }

  /** The SQL (and its parameters) a write transaction runs to announce itself at commit. */
  announcement(change: Change): [string, unknown[]] {
    return ['SELECT pg_notify(?, ?)', [CHANGES_CHANNEL, `${this.replica} ${change}`]];
  }

  /**
   * Resolves once every notification of a commit that ended before this call has been handled:
   * one round trip on the listening connection, which PostgreSQL answers only after sending the
   * notifications already queued for it (a committing backend signals the listeners before its
   * commit returns). Callers arriving while a round trip is in flight share the next one: the one
   * in flight may have left before their commit.
   */
  caughtUp(): Promise<void> {
    if (!this.client) return Promise.resolve();
    if (!this.inFlight) return (this.inFlight = this.roundTrip());
    return (this.queued ??= this.inFlight.then(() => {
      this.queued = undefined;
      return (this.inFlight = this.roundTrip());
    }));
  }

  private async roundTrip(): Promise<void> {
    const client = this.client;
    // A lost connection already counts as a change (see `lost`): nothing more to wait for.
    await client?.query('SELECT 1').catch(() => undefined);
    if (!this.queued) this.inFlight = undefined;
  }

  private async connect(): Promise<void> {
    const { Client } = await loadPg();
    const client = new Client({ connectionString: this.url, application_name: 'gatehoused-listener' });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => {
      const [replica, change] = (message.payload ?? '').split(' ');
      if (replica === this.replica) return;
      if (change === 'use') this.listeners.used();
      else this.listeners.changed();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch {
      this.lost(client);
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.reconnectMs = RECONNECT_MIN_MS;
    // Whatever committed while no connection listened went unannounced.
    this.listeners.changed();
  }

  private lost(client: pg.Client): void {
    // A connection reports its end more than once (an error, then its end): the first one counts.
    if (this.dead.has(client)) return;
    this.dead.add(client);
    if (this.client === client) this.client = undefined;
    void client.end().catch(() => undefined);
    this.listeners.changed();
    if (this.closed) return;
    this.reconnect = setTimeout(() => {
      this.reconnect = undefined;
      void this.connect();
    }, this.reconnectMs);
    this.reconnect.unref();
    this.reconnectMs = Math.min(this.reconnectMs * 2, RECONNECT_MAX_MS);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnect);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}

/**
 * The PostgreSQL driver, loaded on first use: a desktop daemon on SQLite never needs it, and
 * evaluating it at start costs the cold start tens of milliseconds (and its code stays in memory).
 */
export const loadPg = async (): Promise<typeof pg> => (await import('pg')).default;
