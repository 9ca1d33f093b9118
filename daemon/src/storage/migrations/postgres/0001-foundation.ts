import type { MigrationInterface, QueryRunner } from 'typeorm';

/** PostgreSQL's twin of ../0001-foundation.ts: the same tables, constraints and indexes. */
export class Foundation1795398000000 implements MigrationInterface {
  name = 'Foundation1795398000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE projects (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      slug TEXT NOT NULL UNIQUE,
      created_at TEXT NOT NULL)`);

    await db.query(`CREATE TABLE users (
      id TEXT PRIMARY KEY,
      username TEXT NOT NULL UNIQUE,
      email TEXT,
      kind TEXT NOT NULL CHECK (kind IN ('human', 'agent')),
      password_hash TEXT,
      role TEXT NOT NULL CHECK (role IN ('viewer', 'admin', 'super_admin')),
      tool_ceiling TEXT NOT NULL DEFAULT '[]',
      mfa_enabled BOOLEAN NOT NULL DEFAULT false,
      totp_last_step BIGINT,
      totp_failures INTEGER NOT NULL DEFAULT 0,
      totp_locked_until TEXT,
      failed_logins INTEGER NOT NULL DEFAULT 0,
      locked_until TEXT,
      first_name TEXT,
      disabled BOOLEAN NOT NULL DEFAULT false,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL)`);
    // SQLite's `UNIQUE COLLATE NOCASE`: one account per e-mail address, whatever its case.
    await db.query(`CREATE UNIQUE INDEX users_email ON users (lower(email))`);

    await db.query(`CREATE TABLE memberships (
      user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      privilege INTEGER NOT NULL CHECK (privilege IN (1, 2)),
      created_at TEXT NOT NULL,
      PRIMARY KEY (user_id, project_id))`);
    await db.query(`CREATE INDEX memberships_project ON memberships (project_id)`);

    await db.query(`CREATE TABLE sessions (
      id TEXT PRIMARY KEY,
      user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      revoked_at TEXT,
      revoked_reason TEXT,
      source TEXT,
      user_agent TEXT)`);
    await db.query(`CREATE INDEX sessions_user ON sessions (user_id)`);

    await db.query(`CREATE TABLE refresh_tokens (
      id TEXT PRIMARY KEY,
      session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
      prefix TEXT NOT NULL UNIQUE,
      token_hash TEXT NOT NULL,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      revoked_at TEXT,
      replaced_by TEXT)`);
    await db.query(`CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id)`);

    await db.query(`CREATE TABLE personal_tokens (
      id TEXT PRIMARY KEY,
      user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      label TEXT,
      prefix TEXT NOT NULL UNIQUE,
      token_hash TEXT NOT NULL,
      last_four TEXT NOT NULL,
      created_at TEXT NOT NULL,
      expires_at TEXT,
      last_used_at TEXT,
      revoked_at TEXT)`);
    await db.query(`CREATE INDEX personal_tokens_user ON personal_tokens (user_id)`);

    await db.query(`CREATE TABLE signing_keys (
      kid TEXT PRIMARY KEY,
      public_key TEXT NOT NULL,
      created_at TEXT NOT NULL,
      retired_at TEXT)`);

    await db.query(`CREATE TABLE audit_events (
      sequence_number BIGINT PRIMARY KEY,
      at TEXT NOT NULL,
      event_type TEXT NOT NULL,
      actor TEXT NOT NULL,
      agent_id TEXT,
      target TEXT,
      project_id TEXT,
      source TEXT,
      outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
      metadata TEXT NOT NULL,
      previous_hash TEXT,
      entry_hash TEXT NOT NULL)`);
    await db.query(`CREATE INDEX audit_events_type ON audit_events (event_type)`);
    await db.query(`CREATE INDEX audit_events_agent ON audit_events (agent_id)`);
    await db.query(`CREATE INDEX audit_events_project ON audit_events (project_id, sequence_number)`);
    await db.query(`CREATE INDEX audit_events_at ON audit_events (at)`);
    // The daemon numbers the chain itself; a row inserted without a number gets the next one, as
    // SQLite's AUTOINCREMENT gives it (an identity would start again at 1 under the daemon's rows).
    await db.query(`CREATE FUNCTION audit_events_next_sequence() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.sequence_number IS NULL THEN
          NEW.sequence_number := coalesce((SELECT max(sequence_number) FROM audit_events), 0) + 1;
        END IF;
        RETURN NEW;
      END $$`);
    await db.query(`CREATE TRIGGER audit_events_sequence BEFORE INSERT ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_next_sequence()`);
    // Append-only inside the database too; the hash chain catches edits made around these.
    await db.query(`CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$`);
    await db.query(`CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
    await db.query(`CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of [
      'audit_events',
      'signing_keys',
      'personal_tokens',
      'refresh_tokens',
      'sessions',
      'memberships',
      'users',
      'projects',
    ]) {
      await db.query(`DROP TABLE ${table}`);
    }
    await db.query(`DROP FUNCTION audit_events_append_only()`);
    await db.query(`DROP FUNCTION audit_events_next_sequence()`);
  }
}
