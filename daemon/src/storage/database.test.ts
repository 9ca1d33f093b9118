import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import type { EntityManager } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DB_FILE } from '../home.js';
import { Database, EXTERNAL_CHANGE_POLL_MS } from './database.js';
import { ToolEntity } from './permission-entities.js';
import { migrations } from './migrations/index.js';
import { AuditLog } from '../domain/audit/audit-log.js';

const tableNames = async (db: Database): Promise<string[]> =>
  (
    await db.source.query(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'migrations' ORDER BY name",
    )
  ).map((row: { name: string }) => row.name);

describe('the database', () => {
  let dir: string;
  let db: Database;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-db-'));
    db = await Database.open({ sqlite: join(dir, DB_FILE) });
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs every migration at open, with WAL, foreign keys and a busy timeout, in a 0600 file', async () => {
    expect(await db.migrationCount()).toBe(migrations.length);
    expect(await db.source.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    expect(await db.source.query('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
    expect(await db.source.query('PRAGMA busy_timeout')).toEqual([{ timeout: 5000 }]);
    expect(statSync(join(dir, DB_FILE)).mode & 0o777).toBe(0o600);
    expect(await tableNames(db)).toEqual(expect.arrayContaining(['users', 'projects', 'audit_events', 'agents']));
    // Business rules live in services; the only triggers keep the audit log append-only.
    expect(await db.source.query("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")).toEqual([
      { name: 'audit_events_no_delete' },
      { name: 'audit_events_no_update' },
    ]);
  });

  it("keeps a failed statement's parameters out of its error (sqlite3's verbose mode would put them in the stack)", async () => {
    const failure: unknown = await db.source
      .query('SELECT * FROM no_such_table WHERE name = ?', ['parameter-value-7f3a'])
      .catch((error: unknown) => error);
    const driverError = (failure as { driverError?: Error }).driverError;
    expect(driverError?.message).toMatch(/no such table/);
    expect(`${driverError?.stack}\n${(failure as Error).stack}`).not.toContain('parameter-value-7f3a');
  });

  it('undoes every migration, newest first, back to an empty schema, and applies them again', async () => {
    const full = await tableNames(db);
    for (let i = 0; i < migrations.length; i++) await db.source.undoLastMigration();
    expect(await tableNames(db)).toEqual([]);
    await db.source.runMigrations();
    expect(await tableNames(db)).toEqual(full);
  });

  it('reopens an existing file without running anything twice', async () => {
    await db.close();
    db = await Database.open({ sqlite: join(dir, DB_FILE) });
    expect(await db.migrationCount()).toBe(migrations.length);
  });

  it('rolls back every statement of a write that fails half-way', async () => {
    const now = new Date().toISOString();
    await expect(
      db.write(async (tx) => {
        await tx.query("INSERT INTO projects (id, name, slug, created_at) VALUES ('p1', 'One', 'one', ?)", [now]);
        throw new Error('fails after the first insert');
      }),
    ).rejects.toThrow('fails after the first insert');
    expect(await db.source.query('SELECT count(*) AS n FROM projects')).toEqual([{ n: 0 }]);
  });

  it('runs concurrent writes one at a time, so none is lost', async () => {
    const now = new Date().toISOString();
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        db.write((tx) =>
          tx.query('INSERT INTO projects (id, name, slug, created_at) VALUES (?, ?, ?, ?)', [
            `p${i}`,
            `P${i}`,
            `p${i}`,
            now,
          ]),
        ),
      ),
    );
    expect(await db.source.query('SELECT count(*) AS n FROM projects')).toEqual([{ n: 25 }]);
  });

  it('moves its generation after each write, committed or rolled back, and after another program commits', async () => {
    const before = db.generation;
    await db.write((tx) => tx.query("INSERT INTO tools (name, description, created_at) VALUES ('t1', '', '')"));
    expect(db.generation).toBeGreaterThan(before);
    const afterCommit = db.generation;
    await db.write(() => Promise.reject(new Error('rolled back'))).catch(() => undefined);
    expect(db.generation).toBeGreaterThan(afterCommit);

    // Another connection to the file: seen within one poll, and only when it commits.
    const seen = db.generation;
    await new Promise((resolve) => setTimeout(resolve, EXTERNAL_CHANGE_POLL_MS * 1.5));
    expect(db.generation).toBe(seen);
    const other = new sqlite3.Database(join(dir, DB_FILE));
    await new Promise<void>((resolve, reject) =>
      other.exec("INSERT INTO tools (name, description, created_at) VALUES ('t2', '', '')", (error) =>
        other.close(() => (error ? reject(error) : resolve())),
      ),
    );
    await expect.poll(() => db.generation, { timeout: EXTERNAL_CHANGE_POLL_MS * 3 }).toBeGreaterThan(seen);
  });

  it('records uses without moving the generation, only that of the caches which show when credentials were used', async () => {
    const generation = db.generation;
    const withUseTimes = db.withUseTimes.generation;
    await db.recordUse((tx) => tx.query("UPDATE tools SET description = '' WHERE name = 'none'"));
    expect(db.generation).toBe(generation);
    expect(db.withUseTimes.generation).toBeGreaterThan(withUseTimes);
    const afterUse = db.withUseTimes.generation;
    await db.write((tx) => tx.query("INSERT INTO tools (name, description, created_at) VALUES ('t1', '', '')"));
    expect(db.generation).toBeGreaterThan(generation);
    expect(db.withUseTimes.generation).toBeGreaterThan(afterUse);
  });

  it('hands reads a manager that cannot write, so no write bypasses the generation', async () => {
    await db.write((tx) => tx.query("INSERT INTO tools (name, description, created_at) VALUES ('t1', '', '')"));
    const generation = db.generation;
    const manager = db.manager as unknown as EntityManager; // as code that casts its way past the type would
    const tool = { name: 't2', description: '', created_at: '' };
    expect(() => manager.insert(ToolEntity, tool)).toThrow(/Database.write/);
    expect(() => manager.save(ToolEntity, tool)).toThrow(/Database.write/);
    expect(() => manager.delete(ToolEntity, { name: 't1' })).toThrow(/Database.write/);
    expect(() => manager.getRepository(ToolEntity)).toThrow(/Database.write/);
    expect(() => manager.createQueryBuilder().update(ToolEntity).set({ description: 'x' })).toThrow(/Database.write/);
    expect(() => manager.createQueryBuilder(ToolEntity, 't').delete()).toThrow(/Database.write/);
    expect(() => manager.query("DELETE FROM tools WHERE name = 't1'")).toThrow(/Database.write/);

    // Reads work as on TypeORM's own manager.
    expect(await db.manager.findOneBy(ToolEntity, { name: 't1' })).toMatchObject({ name: 't1' });
    expect(
      await db.manager.createQueryBuilder(ToolEntity, 't').where('t.name = :name', { name: 't1' }).getCount(),
    ).toBe(1);
    expect(await db.manager.query('SELECT count(*) AS n FROM tools')).toEqual([{ n: 1 }]);
    expect(db.generation).toBe(generation);
  });

  it('tracks the current write only while one is open: after it, promises carry no async context', async () => {
    // On Node 20 an enabled AsyncLocalStorage hooks every promise the process makes (it marks each
    // with its context); the daemon's requests make many, and paid for it after its first write.
    const marks = (promise: Promise<unknown>) => Object.getOwnPropertySymbols(promise).length;
    const unmarked = marks(Promise.resolve());
    let inside = 0;
    await db.write(async (tx) => {
      await tx.query("INSERT INTO tools (name, description, created_at) VALUES ('t1', '', '')");
      inside = await db.join(async (joined) => {
        expect(joined).toBe(tx);
        expect(db.reader).toBe(tx);
        return marks(Promise.resolve());
      });
    });
    expect(inside).toBeGreaterThan(unmarked);
    expect(marks(Promise.resolve())).toBe(unmarked);
    expect(db.reader).toBe(db.source.manager);
  });

  it('appends a batch of audit rows, chained, without moving the generation (no read cache reads them)', async () => {
    const audit = new AuditLog(db);
    await audit.record({ event_type: 'before', actor: { label: 'test', user: null, source: null } });
    const before = db.generation;
    const entries = Array.from({ length: 120 }, (_, i) => ({
      event_type: 'connection.called',
      actor: { label: 'agent:a', user: null, source: '127.0.0.1' },
      metadata: { i },
    }));
    const [rows] = await Promise.all([
      db.writeUncached((tx) => audit.appendAll(tx, entries)),
      db.write((tx) => tx.query("INSERT INTO tools (name, description, created_at) VALUES ('t3', '', '')")),
    ]);
    expect(rows.map((row) => row.sequence_number)).toEqual(entries.map((_, i) => i + 2));
    expect(db.generation).toBe(before + 1); // the tool's write, not the audit batch
    expect(await audit.verify()).toMatchObject({ is_valid: true, entries_checked: 121 });
  });
});
