import { In } from 'typeorm';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openTempSqlite } from '../testing/test-database.js';
import type { Database } from './database.js';
import { findByIds, IDS_PER_QUERY } from './find-by-ids.js';
import { ToolEntity } from './permission-entities.js';

let db: Database;
let dispose: () => Promise<void>;
beforeEach(async () => {
  ({ db, dispose } = await openTempSqlite());
});
afterEach(() => dispose());

it('reads every row of more ids than one query binds, a query per chunk, and none for no ids', async () => {
  const names = Array.from({ length: 2 * IDS_PER_QUERY + 1 }, (_, i) => `tool-${i}`);
  await db.write((tx) =>
    tx.insert(
      ToolEntity,
      names.map((name) => ({ name, description: null, created_at: '' })),
    ),
  );
  const queries: number[] = [];
  const find = (ids: string[]) => {
    queries.push(ids.length);
    return db.manager.find(ToolEntity, { where: { name: In(ids) } });
  };
  // Unknown ids among them are simply not found.
  const rows = await findByIds([...names, 'no-such-tool'], find);
  expect(rows.map((row) => row.name).sort()).toEqual([...names].sort());
  expect(queries).toEqual([IDS_PER_QUERY, IDS_PER_QUERY, 2]);
  expect(await findByIds([], find)).toEqual([]);
  expect(queries).toHaveLength(3);
});
