import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type sqlite3 from 'sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DB_FILE } from '../home.js';
import { Database } from './database.js';
import { activityByHour, keysNeedingAttention, mostRefusedAgents } from './overview-queries.js';

/** The plan SQLite chooses for each statement `run` executes, as EXPLAIN QUERY PLAN details. */
async function plansOf(db: Database, run: () => Promise<unknown>): Promise<string[]> {
  const connection = (db.source.driver as unknown as { databaseConnection: sqlite3.Database }).databaseConnection;
  const statements: string[] = [];
  const trace = (sql: string) => statements.push(sql);
  connection.on('trace', trace);
  try {
    await run();
    // The trace of the last statement is delivered on a later turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    connection.off('trace', trace);
  }
  const plans: string[] = [];
  for (const sql of statements.filter((s) => /^\s*SELECT/i.test(s))) {
    const rows: Array<{ detail: string }> = await db.source.query(`EXPLAIN QUERY PLAN ${sql}`);
    plans.push(rows.map((row) => row.detail).join(' | '));
  }
  return plans;
}

describe('the overview queries', () => {
  let dir: string;
  let db: Database;
  const since = new Date(Date.now() - 7 * 86_400_000);
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-overview-'));
    db = await Database.open({ sqlite: join(dir, DB_FILE) });
    // One event in the window, so the counts run past the first sequence number's seek.
    await db.source.query(
      `INSERT INTO audit_events (at, event_type, actor, agent_id, project_id, outcome, metadata, entry_hash)
       VALUES (?, 'connection.called', 'agent:a', 'agent-1', 'project-1', 'failure', '{}', 'sha256:x')`,
      [new Date().toISOString()],
    );
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("count a project's week from its covering index, and its refusals from theirs", async () => {
    const plans = await plansOf(db, async () => {
      await activityByHour(db.manager, { projectId: 'project-1' }, since);
      await mostRefusedAgents(db.manager, db.driver, 'project-1', since, 5);
    });
    expect(plans).toEqual(
      expect.arrayContaining([
        expect.stringContaining(
          'SEARCH e USING COVERING INDEX audit_events_project_activity (project_id=? AND sequence_number>?)',
        ),
        expect.stringContaining(
          'SEARCH audit_events USING COVERING INDEX audit_events_refusals (project_id=? AND sequence_number>?)',
        ),
      ]),
    );
  });

  it("count an agent's week from the agent's covering index", async () => {
    const plans = await plansOf(db, () =>
      activityByHour(db.manager, { projectId: 'project-1', agentId: 'agent-1' }, since),
    );
    expect(plans).toEqual(
      expect.arrayContaining([
        expect.stringContaining(
          'SEARCH e USING COVERING INDEX audit_events_agent_activity (agent_id=? AND sequence_number>?)',
        ),
      ]),
    );
  });

  it('read the key lists from the live keys’ partial indexes, not the table', async () => {
    const now = new Date();
    const plans = await plansOf(db, async () => {
      const soon = new Date(now.getTime() + 86_400_000);
      await keysNeedingAttention(db.manager, 'project-1', { expiringBetween: [now, soon] }, 5);
      await keysNeedingAttention(db.manager, 'project-1', { neverUsedAt: now }, 5);
    });
    expect(plans).toEqual([
      expect.stringContaining(
        'SEARCH k USING COVERING INDEX agent_keys_live_by_expiry (expires_at>? AND expires_at<?)',
      ),
      expect.stringContaining('SCAN k USING COVERING INDEX agent_keys_never_used'),
    ]);
  });
});
