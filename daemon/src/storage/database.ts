import { AsyncLocalStorage } from 'node:async_hooks';
import { chmodSync, closeSync, openSync } from 'node:fs';
import sqlite3 from 'sqlite3';
import { DataSource, type DataSourceOptions, type EntityManager } from 'typeorm';
import { SerialQueue } from '../serial-queue.js';
import { agentEntities } from './agent-entities.js';
import { entities } from './entities.js';
import { migrations } from './migrations/index.js';
import { postgresMigrations } from './migrations/postgres/index.js';
import { mcpEntities } from './mcp-entities.js';
import { permissionEntities } from './permission-entities.js';
import { workflowEntities } from './workflow-entities.js';
import { connectionEntities } from './connection-entities.js';
import { limitEntities } from './limit-entities.js';
import { dialects, type Dialect } from './dialect.js';
import { ReplicaChanges, type Change } from './replica-changes.js';
import type { DataGeneration } from './read-cache.js';

/** Where the data lives: a SQLite file (the desktop default) or a PostgreSQL database (team mode). */
export type DatabaseTarget = { sqlite: string } | { postgres: string };

export type Driver = 'sqlite' | 'postgres';

/** Held while one replica migrates: replicas starting together on an empty database migrate once. */
const MIGRATION_LOCK = 'gatehouse.migrations';

/**
 * Taken by every `write()` transaction on PostgreSQL, until it ends. The services check, then
 * write (is the name free? then insert); under READ COMMITTED two replicas' transactions would
 * both pass the check. SQLite has one writer at a time already.
 */
const WRITE_LOCK = 'gatehouse.writes';

/**
 * node-sqlite3 as TypeORM would load it, but without `verbose()`, which TypeORM calls on it:
 * verbose mode wraps every statement to capture a stack and `util.inspect` its SQL and bound
 * parameters, and appends them to the stack of any error the statement fails with, which the
 * log then holds.
 */
const quietSqlite3 = { ...sqlite3, verbose: () => sqlite3 };

/**
 * How often another program's commits to the SQLite file are looked for (see `generation`). On
 * PostgreSQL nothing is polled: other writers announce their commits (see `ReplicaChanges`).
 */
export const EXTERNAL_CHANGE_POLL_MS = 1000;

/** EntityManager methods that write, or hand out something that can (a repository). */
const MANAGER_WRITES = [
  'save',
  'insert',
  'update',
  'upsert',
  'delete',
  'remove',
  'softRemove',
  'softDelete',
  'restore',
  'recover',
  'increment',
  'decrement',
  'clear',
  'transaction',
  'getRepository',
  'getTreeRepository',
  'getMongoRepository',
  'withRepository',
  'getCustomRepository',
] as const;
/** Query-builder methods that turn a read into a write. */
const BUILDER_WRITES = new Set(['insert', 'update', 'delete', 'softDelete', 'restore', 'relation']);

/**
 * The manager reads get: an EntityManager without its writes, in its type and at run time (raw
 * SQL other than a SELECT is refused too). Every write goes through `Database.write`, which moves
 * the generation the read caches depend on: a write outside it would let a revoked key work
 * until the next write.
 */
export type ReadManager = Omit<EntityManager, (typeof MANAGER_WRITES)[number]>;

/** Escapes `%`, `_` and `\` so user text is matched literally by `LIKE … ESCAPE '\'`. */
export const escapeLike = (value: string): string => value.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * The database: SQLite, or PostgreSQL through the same TypeORM code. TypeORM's sqlite driver runs
 * everything over one connection, so two transactions started concurrently would nest into each
 * other; every write therefore goes through `write()`, which runs this daemon's transactions one
 * at a time (on PostgreSQL too, and across replicas under an advisory lock, so the services'
 * check-then-write rules hold the same way). Reads use `manager`, which cannot write.
 */
export class Database {
  private readonly writes = new SerialQueue();
  readonly manager: ReadManager;
  /** SQL that differs between the drivers. */
  readonly dialect: Dialect;
  /** The transaction of the `write()` the current async call chain runs inside, if any. */
  private readonly currentWrite = new AsyncLocalStorage<{ tx: EntityManager; open: boolean }>();
  private changes = 0;
  /** Moved by `recordUse` alone (here and, announced, on the other replicas). */
  private uses = 0;
  /**
   * For the caches whose values show when a credential was last used: moves with `generation`
   * and with every `recordUse`, so they show a use once it is written.
   */
  readonly withUseTimes: DataGeneration;
  /** Looks for other programs' commits to the SQLite file (none on PostgreSQL). */
  private readonly poll: NodeJS.Timeout | undefined;
  /** The other replicas' commits, announced (PostgreSQL only). */
  private replicas: ReplicaChanges | undefined;

  private constructor(
    readonly source: DataSource,
    readonly driver: Driver,
    /** SQLite's `data_version` as last seen. */
    private dataVersion?: number,
  ) {
    if (dataVersion !== undefined) {
      this.poll = setInterval(() => void this.lookForExternalChanges(), EXTERNAL_CHANGE_POLL_MS);
      this.poll.unref();
    }
    this.manager = readOnly(source.manager);
    this.dialect = dialects[driver];
    const generationWithUses = () => this.generation + this.uses;
    this.withUseTimes = {
      get generation() {
        return generationWithUses();
      },
    };
  }

  static async open(target: DatabaseTarget): Promise<Database> {
    if ('postgres' in target) return Database.openPostgres(target.postgres);
    const path = target.sqlite;
    // Owner-only from the first byte; SQLite gives its -wal and -shm files the same mode.
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
    const source = new DataSource({
      type: 'sqlite',
      driver: quietSqlite3,
      database: path,
      entities: allEntities,
      migrations,
      migrationsRun: true,
      migrationsTransactionMode: 'each',
      synchronize: false,
      enableWAL: true,
      busyTimeout: 5000,
      logging: false,
    });
    await source.initialize();
    // sqlite3's driver enables foreign keys; WAL makes NORMAL sync durable enough and much faster.
    await source.query('PRAGMA synchronous = NORMAL');
    return new Database(source, 'sqlite', await dataVersion(source));
  }

  private static async openPostgres(url: string): Promise<Database> {
    const options: DataSourceOptions = {
      type: 'postgres',
      url,
      applicationName: 'gatehoused',
      entities: allEntities,
      migrations: postgresMigrations,
      migrationsTransactionMode: 'each',
      synchronize: false,
      // Counts and BIGINT columns (epoch milliseconds, sequence numbers) as numbers, as on SQLite:
      // every one of them is far below 2^53.
      parseInt8: true,
      logging: false,
    };
    const source = new DataSource(options);
    await source.initialize();
    wrapQueryRunners(source);
    try {
      await migrateOnce(source);
    } catch (error) {
      await source.destroy();
      throw error;
    }
    const db = new Database(source, 'postgres');
    db.replicas = await ReplicaChanges.listen(url, {
      changed: () => db.changes++,
      used: () => db.uses++,
    });
    return db;
  }

  /**
   * Changes whenever the data may have changed: after each of the daemon's write transactions
   * (committed or rolled back: reads on the shared connection may have seen it uncommitted), and
   * within a second of another program committing to the SQLite file. On PostgreSQL, also when
   * another replica's write transaction commits (its notification arrives), and on every read
   * while no notifications can arrive: then nothing is served from a cache. `ReadCache`s key on
   * it. Recorded uses (`recordUse`) do not move it: see `withUseTimes`.
   */
  get generation(): number {
    if (this.replicas && !this.replicas.listening) this.changes++;
    return this.changes;
  }

  /** Runs `work` in a transaction of its own: it all lands, or none of it does. */
  write<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.announcedWrite('data', work, () => this.changes++);
  }

  /**
   * As `write`, for `work` that writes only when credentials were last used (`last_used_at`,
   * `last_auth_at`): it moves `withUseTimes` but not `generation`, here and on the other
   * replicas, so the caches of what such a write cannot change (the credentials, the agent
   * list's count) stay. The usage recorder writes a batch every 30 seconds while agents work;
   * each emptied every cache before. A read on SQLite's shared connection may see such a write
   * uncommitted: only its times, which a rollback would leave a few seconds too new.
   */
  recordUse<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.announcedWrite('use', work, () => this.uses++);
  }

  /**
   * Runs `work` in a transaction of its own, announced to the other replicas at commit as
   * `change`, and calls `ended` once it committed or rolled back.
   */
  private announcedWrite<T>(change: Change, work: (tx: EntityManager) => Promise<T>, ended: () => void): Promise<T> {
    const replicas = this.replicas;
    const announced = replicas
      ? async (tx: EntityManager) => {
          // Before the first read: the checks then see every commit of the write before this one.
          await tx.query('SELECT pg_advisory_xact_lock(hashtext(?))', [WRITE_LOCK]);
          const result = await work(tx);
          // Delivered to the other replicas at commit, and not at all on a rollback.
          await tx.query(...replicas.announcement(change));
          return result;
        }
      : work;
    return this.writes.run(() => this.source.transaction(this.tracked(announced)).finally(ended));
  }

  /**
   * Runs `work` while holding the lock `lockName` across every replica on the database (a
   * session-level advisory lock on PostgreSQL): for what must happen once, made by whichever
   * replica comes first, such as a key made on first start. On SQLite, whose one daemon is the
   * only writer, it just runs `work`. `work` uses the database as usual; holding the lock it sees
   * everything the previous holder committed.
   */
  exclusively<T>(lockName: string, work: () => Promise<T>): Promise<T> {
    return this.driver === 'postgres' ? withSessionLock(this.source, lockName, work) : work();
  }

  /**
   * Resolves once the caches are invalidated for every other replica's commit that ended before
   * the call (one round trip on PostgreSQL; at once on SQLite, whose other writers are programs
   * beside the desktop daemon, found by the poll). Each request waits for it before it is
   * answered, so a key revoked through one replica is refused on the next request to any other.
   */
  caughtUp(): Promise<void> | undefined {
    return this.replicas?.caughtUp();
  }

  /**
   * Runs `work` inside the write transaction the caller is already in, so it lands or rolls back
   * with it; in a transaction of its own otherwise. For writes made on behalf of a caller that
   * may or may not hold a transaction (the database secret store): a nested `write()` would wait
   * for the caller's own transaction to end, forever.
   */
  join<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    const current = this.currentWrite.getStore();
    // A callback a transaction left running after it ended must not write through it: on SQLite's
    // one shared connection that would land in whichever transaction runs by then.
    return current?.open ? work(current.tx) : this.write(work);
  }

  /** The caller's write transaction if it is in one (it sees its own uncommitted rows), the shared manager otherwise. */
  get reader(): EntityManager {
    const current = this.currentWrite.getStore();
    return current?.open ? current.tx : this.source.manager;
  }

  /**
   * Runs `work` with its transaction as the current write. On Node 20 an enabled AsyncLocalStorage
   * installs promise hooks that every promise of the process pays for, every request's included,
   * so it is enabled only while a write is open: writes run one at a time, and between them no
   * call chain is inside an open one, so `getStore()` has nothing to tell.
   */
  private tracked<T>(work: (tx: EntityManager) => Promise<T>): (tx: EntityManager) => Promise<T> {
    return (tx) => {
      const write = { tx, open: true };
      return this.currentWrite
        .run(write, () => work(tx))
        .finally(() => {
          write.open = false;
          this.currentWrite.disable();
        });
    };
  }

  /**
   * Runs `work` in a transaction of its own without moving the generation: for writes only to
   * tables no read cache reads (the audit chain, usage counters), which must not empty the
   * caches — the broker appends a batch of call records several times a second. It does not
   * wait for other replicas' writes either: those appends check nothing first (the audit chain
   * takes a lock of its own).
   */
  writeUncached<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.writes.run(() => this.source.transaction(this.tracked(work)));
  }

  /** SQLite's `data_version` moves when another connection commits (never for this one's own commits). */
  private async lookForExternalChanges(): Promise<void> {
    try {
      const version = await dataVersion(this.source);
      if (version !== this.dataVersion) this.changes++;
      this.dataVersion = version;
    } catch {
      // closing: nothing to look for any more
    }
  }

  async migrationCount(): Promise<number> {
    const rows: Array<{ n: number }> = await this.source.query('SELECT count(*) AS n FROM migrations');
    return Number(rows[0]?.n ?? 0);
  }

  async close(): Promise<void> {
    clearInterval(this.poll);
    await this.writes.drain();
    await this.replicas?.close();
    if (this.source.isInitialized) await this.source.destroy();
  }
}

const refused = (what: string) => () => {
  throw new Error(`${what} through the read-only manager: writes go through Database.write`);
};

function readOnly(manager: EntityManager): ReadManager {
  const writes = new Set<string | symbol>(MANAGER_WRITES);
  const builder = <B extends object>(target: B): B =>
    new Proxy(target, {
      get: (inner, name, receiver) =>
        BUILDER_WRITES.has(String(name)) ? refused(`${String(name)}()`) : Reflect.get(inner, name, receiver),
    });
  return new Proxy(manager, {
    get(target, name) {
      if (writes.has(name)) return refused(`${String(name)}()`);
      if (name === 'createQueryBuilder')
        return (...args: Parameters<EntityManager['createQueryBuilder']>) =>
          builder(target.createQueryBuilder(...(args as [never])));
      if (name === 'query')
        return (sql: string, parameters?: unknown[]) =>
          /^\s*SELECT\b/i.test(sql) ? target.query(sql, parameters) : refused('raw SQL other than a SELECT')();
      const value = Reflect.get(target, name, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function dataVersion(source: DataSource): Promise<number> {
  const [row] = (await source.query('PRAGMA data_version')) as Array<{ data_version: number }>;
  return row!.data_version;
}

const allEntities = [
  ...entities,
  ...agentEntities,
  ...permissionEntities,
  ...workflowEntities,
  ...connectionEntities,
  ...limitEntities,
  ...mcpEntities,
];

/**
 * Runs the pending migrations under a session-level advisory lock: a replica that starts while
 * another migrates waits for it, then finds nothing left to run.
 */
async function migrateOnce(source: DataSource): Promise<void> {
  await withSessionLock(source, MIGRATION_LOCK, () => source.runMigrations({ transaction: 'each' }));
}

/**
 * Runs `work` holding PostgreSQL's session-level advisory lock `name` on a connection of its own
 * (the lock goes with that connection, so a replica killed while holding it frees it).
 */
async function withSessionLock<T>(source: DataSource, name: string, work: () => Promise<T>): Promise<T> {
  const runner = source.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext(?))', [name]);
    try {
      return await work();
    } finally {
      await runner.query('SELECT pg_advisory_unlock(hashtext(?))', [name]);
    }
  } finally {
    await runner.release();
  }
}

/**
 * Lets the raw SQL in storage/ be written once for both drivers: PostgreSQL numbers its
 * placeholders (`$1`), SQLite's are `?`. Each `?` outside a quoted string or identifier becomes
 * the next `$n`; SQL TypeORM generates for PostgreSQL has no `?` and passes unchanged.
 */
function wrapQueryRunners(source: DataSource): void {
  const driver = source.driver;
  const create = driver.createQueryRunner.bind(driver);
  driver.createQueryRunner = (mode) => {
    const runner = create(mode);
    const query = runner.query.bind(runner);
    runner.query = ((sql: string, ...rest: unknown[]) =>
      (query as (...args: unknown[]) => Promise<unknown>)(numberPlaceholders(sql), ...rest)) as typeof runner.query;
    return runner;
  };
}

/** `?` → `$1`, `$2`… outside '…', "…" and $$…$$. */
export function numberPlaceholders(sql: string): string {
  if (!sql.includes('?')) return sql;
  let n = 0;
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\$\$[\s\S]*?\$\$|\?/g, (token) =>
    token === '?' ? `$${++n}` : token,
  );
}
