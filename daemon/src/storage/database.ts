import { chmodSync, closeSync, openSync } from 'node:fs';
import { DataSource, type EntityManager } from 'typeorm';
import { SerialQueue } from '../serial-queue.js';
import { agentEntities } from './agent-entities.js';
import { entities } from './entities.js';
import { migrations } from './migrations/index.js';
import { permissionEntities } from './permission-entities.js';
import { workflowEntities } from './workflow-entities.js';

/** How often another program's commits to the file are looked for (see `generation`). */
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
 * The SQLite database. TypeORM's sqlite driver runs everything over one connection, so two
 * transactions started concurrently would nest into each other; every write therefore goes
 * through `write()`, which runs transactions one at a time. Reads use `manager`, which cannot write.
 */
export class Database {
  private readonly writes = new SerialQueue();
  readonly manager: ReadManager;
  private changes = 0;
  private readonly poll: NodeJS.Timeout;

  private constructor(
    readonly source: DataSource,
    private dataVersion: number,
  ) {
    this.poll = setInterval(() => void this.lookForExternalChanges(), EXTERNAL_CHANGE_POLL_MS);
    this.poll.unref();
    this.manager = readOnly(source.manager);
  }

  static async open(path: string): Promise<Database> {
    // Owner-only from the first byte; SQLite gives its -wal and -shm files the same mode.
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
    const source = new DataSource({
      type: 'sqlite',
      database: path,
      entities: [...entities, ...agentEntities, ...permissionEntities, ...workflowEntities],
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
    return new Database(source, await dataVersion(source));
  }

  /**
   * Changes whenever the data may have changed: after each of the daemon's write transactions
   * (committed or rolled back: reads on the shared connection may have seen it uncommitted), and
   * within a second of another program committing to the file. `ReadCache`s key on it.
   */
  get generation(): number {
    return this.changes;
  }

  /** Runs `work` in a transaction of its own: it all lands, or none of it does. */
  write<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.writes.run(() => this.source.transaction(work).finally(() => this.changes++));
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
    return rows[0]?.n ?? 0;
  }

  async close(): Promise<void> {
    clearInterval(this.poll);
    await this.writes.drain();
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
