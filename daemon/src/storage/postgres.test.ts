import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readKeyEncryptionKey } from '../secrets/key-encryption-key.js';
import { createTestDatabase, openTempSqlite, testDatabaseServer, type TestDatabase } from '../testing/test-database.js';
import { startTestDaemon } from '../testing/test-daemon.js';
import { replicaDatabases } from '../testing/replica-databases.js';
import { Database, EXTERNAL_CHANGE_POLL_MS, numberPlaceholders } from './database.js';
import { CHANGES_CHANNEL } from './replica-changes.js';
import { migrations } from './migrations/index.js';
import { postgresMigrations } from './migrations/postgres/index.js';

const server = testDatabaseServer();

describe('the PostgreSQL migrations', () => {
  it('are SQLite’s, one for one: the same names and timestamps in the same order', () => {
    expect(postgresMigrations.map((m) => new m().name)).toEqual(migrations.map((m) => new m().name));
  });
});

describe('placeholders', () => {
  it('number every ? outside quoted strings, identifiers and dollar-quoted bodies', () => {
    expect(numberPlaceholders(`SELECT '?' AS "a?", x FROM t WHERE a = ? AND b IN (?, ?) AND c = $$?$$`)).toBe(
      `SELECT '?' AS "a?", x FROM t WHERE a = $1 AND b IN ($2, $3) AND c = $$?$$`,
    );
    expect(numberPlaceholders('SELECT $1')).toBe('SELECT $1');
  });
});

/** Every table's columns with their NOT NULL, as `table.column!` (or without `!` when nullable). */
async function columnsOf(db: Database): Promise<string[]> {
  const rows: Array<{ t: string; c: string; notnull: boolean | number }> =
    db.driver === 'sqlite'
      ? await db.source.query(
          `SELECT m.name AS t, p.name AS c, p."notnull" OR p.pk AS "notnull"
           FROM sqlite_master m, pragma_table_info(m.name) p
           WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name != 'migrations'`,
        )
      : await db.source.query(
          `SELECT table_name AS t, column_name AS c, is_nullable = 'NO' AS "notnull"
           FROM information_schema.columns WHERE table_schema = 'public' AND table_name != 'migrations'`,
        );
  return rows.map((row) => `${row.t}.${row.c}${row.notnull ? '!' : ''}`).sort();
}

describe.skipIf(!server)('a PostgreSQL database (GATEHOUSE_TEST_DATABASE_URL)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(server!);
  });
  afterAll(() => database?.drop());

  it('is migrated once when two daemons start on it together, empty', async () => {
    const [a, b] = await Promise.all([startTestDaemon({ database }), startTestDaemon({ database })]);
    try {
      expect(await a.daemon.services.db.migrationCount()).toBe(migrations.length);
      const runs: Array<{ name: string }> = await b.daemon.services.db.source.query('SELECT name FROM migrations');
      expect(runs.map((run) => run.name).sort()).toEqual(migrations.map((m) => new m().name).sort());
      // Both serve, on the one database: setup through one is seen by the other.
      expect(
        (await a.request('POST', '/auth/setup', { body: { username: 'admin', password: 'x'.repeat(12) } })).status,
      ).toBe(201);
      expect((await b.login('admin', 'x'.repeat(12))).status).toBe(200);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      rmSync(a.home, { recursive: true, force: true });
      rmSync(b.home, { recursive: true, force: true });
    }
  });

  it('has the same tables, columns and NOT NULLs as SQLite’s', async () => {
    const sqlite = await openTempSqlite();
    const postgres = await Database.open({ postgres: database.url });
    try {
      expect(await columnsOf(postgres)).toEqual(await columnsOf(sqlite.db));
    } finally {
      await Promise.all([sqlite.dispose(), postgres.close()]);
    }
  });

  it('keeps one audit chain when two replicas write to it at once', async () => {
    const shared = await createTestDatabase(server!);
    // Replicas share their secrets (the token-signing key) through the database.
    const kek = readKeyEncryptionKey({ base64: randomBytes(32).toString('base64'), variable: 'GATEHOUSE_KEK' });
    const replica = () => startTestDaemon({ database: shared, config: { secretStore: 'database', kek } });
    const a = await replica();
    const b = await replica();
    try {
      const admin = (await a.setupAdmin()).access_token;
      // Each creation appends to the chain in its own transaction, on either replica.
      const created = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 ? a : b).request('POST', '/admin/agents', { token: admin, body: { name: `agent-${i}` } }),
        ),
      );
      expect(created.map((response) => response.status)).toEqual(Array(40).fill(201));
      for (const replica of [a, b]) {
        const verified = await replica.request('GET', '/v1/audit/verify', { token: admin });
        expect(verified.body).toMatchObject({ is_valid: true, first_sequence: 1 });
        expect(verified.body.entries_checked).toBeGreaterThanOrEqual(40);
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      rmSync(a.home, { recursive: true, force: true });
      rmSync(b.home, { recursive: true, force: true });
      await shared.drop();
    }
  });
});

describe.skipIf(!server)('the generations of two replicas on one PostgreSQL database', () => {
  let replicas: Awaited<ReturnType<typeof replicaDatabases>>;
  let a: Database;
  let b: Database;
  beforeAll(async () => {
    replicas = await replicaDatabases(server!, 2);
    [a, b] = replicas.replicas.map((replica) => replica.db) as [Database, Database];
  });
  afterAll(() => replicas?.dispose());

  const addTool = (tx: { query(sql: string, parameters: unknown[]): Promise<unknown> }) =>
    tx.query('INSERT INTO tools (name, description, created_at) VALUES (?, ?, ?)', [
      randomBytes(6).toString('hex'),
      '',
      '',
    ]);

  it("moves B's generation for A's writes, and only that of the caches showing use times for A's recorded uses", async () => {
    const generation = b.generation;
    const withUseTimes = b.withUseTimes.generation;
    await a.recordUse(addTool);
    await b.caughtUp();
    expect(b.generation).toBe(generation);
    expect(b.withUseTimes.generation).toBeGreaterThan(withUseTimes);
    await a.write(addTool);
    await b.caughtUp();
    expect(b.generation).toBeGreaterThan(generation);
  });

  it('keeps its generation through commits no cache depends on: uncached writes, other databases', async () => {
    const generation = b.generation;
    await a.writeUncached(addTool);
    await b.writeUncached(addTool);
    const other = await createTestDatabase(server!);
    await other.drop();
    // Long enough for a poll of the server's write-ahead log position, which all of them move.
    await new Promise((resolve) => setTimeout(resolve, EXTERNAL_CHANGE_POLL_MS * 2));
    await b.caughtUp();
    expect(b.generation).toBe(generation);
  });

  it('moves its generation when another program announces its commit with NOTIFY gatehouse_changes', async () => {
    const generation = b.generation;
    const program = new pg.Client({ connectionString: replicas.url });
    await program.connect();
    try {
      await program.query('BEGIN');
      await program.query("UPDATE tools SET description = 'changed by hand'");
      await program.query(`NOTIFY ${CHANGES_CHANNEL}`);
      await program.query('COMMIT');
    } finally {
      await program.end();
    }
    await b.caughtUp();
    expect(b.generation).toBeGreaterThan(generation);
  });
});
