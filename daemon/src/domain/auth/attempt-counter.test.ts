import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../storage/database.js';
import { createTestDatabase, testDatabaseServer, type TestDatabase } from '../../testing/test-database.js';
import { attemptCounter } from './attempt-counter.js';

const server = testDatabaseServer();
/** A moment long past, so that these rows are never a real key's. */
const T0 = 1_000_000_000_000;

describe.skipIf(!server)('failed attempts counted in PostgreSQL (GATEHOUSE_TEST_DATABASE_URL)', () => {
  let database: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    database = await createTestDatabase(server!);
    db = await Database.open({ postgres: database.url });
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  it('lets the limit through at once, refuses the next, then one more each time a cost drains', async () => {
    // 3 a minute: each attempt costs 20 s.
    const replicaA = attemptCounter(db, 'test', 3, 60_000);
    const replicaB = attemptCounter(db, 'test', 3, 60_000);
    expect(await replicaA.hit('k', T0)).toEqual({ before: 0, after: 0 });
    expect(await replicaB.hit('k', T0)).toEqual({ before: 0, after: 0 });
    expect(await replicaA.hit('k', T0)).toEqual({ before: 0, after: 20 });
    expect(await replicaA.hit('k', T0 + 1000)).toEqual({ before: 19, after: 19 });
    expect(await replicaB.retryAfter('k', T0 + 1000)).toBe(19);
    expect(await replicaB.hit('k', T0 + 20_000)).toEqual({ before: 0, after: 20 });
    expect(await replicaA.retryAfter('other', T0)).toBe(0);

    await db.write((tx) => replicaB.reset('k', tx));
    expect(await replicaA.retryAfter('k', T0 + 20_000)).toBe(0);
  });

  it('counts from now when a clock went back: an attempt made a day ahead locks nothing out', async () => {
    const counter = attemptCounter(db, 'test-clock', 3, 60_000);
    const dayAhead = T0 + 86_400_000;
    expect(await counter.hit('k', dayAhead)).toEqual({ before: 0, after: 0 });
    expect(await counter.retryAfter('k', T0)).toBe(0);
    expect(await counter.hit('k', T0)).toEqual({ before: 0, after: 0 });
  });
});
