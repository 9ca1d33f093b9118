import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes the overview reads instead of table rows (see `overview-queries.ts`).
 *
 * The project's and the agent's audit indexes gain the columns the week's counts read, so a
 * count is a range of one index from the week's first sequence number on. They replace the
 * narrower ones rather than join them: an append writes as many index entries as before, each a
 * few dozen bytes wider. Refusals get a partial index of their own, written only when an event
 * is refused, so the refused-agents list reads the week's refusals, not the whole week.
 *
 * The key lists read partial indexes of live keys, by expiry and never used by creation. They
 * carry the columns of their own conditions (always NULL there) because SQLite counts an index
 * as covering only if it holds every column the query names.
 */
export class OverviewIndexes1795399400000 implements MigrationInterface {
  name = 'OverviewIndexes1795399400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX audit_events_project`);
    await db.query(`CREATE INDEX audit_events_project_activity
      ON audit_events (project_id, sequence_number, at, event_type, outcome, agent_id)`);
    await db.query(`DROP INDEX audit_events_agent`);
    await db.query(`CREATE INDEX audit_events_agent_activity
      ON audit_events (agent_id, sequence_number, at, event_type, outcome, project_id)`);
    await db.query(`CREATE INDEX audit_events_refusals
      ON audit_events (project_id, sequence_number, at, agent_id) WHERE outcome = 'failure'`);
    await db.query(`CREATE INDEX agent_keys_live_by_expiry
      ON agent_keys (expires_at, id, agent_id, created_at, last_four, label, revoked_at) WHERE revoked_at IS NULL`);
    await db.query(`CREATE INDEX agent_keys_never_used
      ON agent_keys (created_at, id, agent_id, expires_at, last_four, label, revoked_at, last_used_at)
      WHERE revoked_at IS NULL AND last_used_at IS NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX agent_keys_never_used`);
    await db.query(`DROP INDEX agent_keys_live_by_expiry`);
    await db.query(`DROP INDEX audit_events_refusals`);
    await db.query(`DROP INDEX audit_events_agent_activity`);
    await db.query(`CREATE INDEX audit_events_agent ON audit_events (agent_id)`);
    await db.query(`DROP INDEX audit_events_project_activity`);
    await db.query(`CREATE INDEX audit_events_project ON audit_events (project_id, sequence_number)`);
  }
}
