import type { MigrationInterface, QueryRunner } from 'typeorm';

/** PostgreSQL's twin of ../0002-agents.ts (a BOOLEAN flag). */
export class Agents1795398100000 implements MigrationInterface {
  name = 'Agents1795398100000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE agents (
      id TEXT PRIMARY KEY,
      project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      name TEXT NOT NULL,
      description TEXT,
      provider TEXT,
      backend TEXT,
      model TEXT,
      system_prompt TEXT,
      allowed_tools TEXT NOT NULL DEFAULT '[]',
      approval_required_tools TEXT NOT NULL DEFAULT '[]',
      history_limit INTEGER,
      group_id TEXT,
      capability_role TEXT NOT NULL DEFAULT 'worker',
      scopes TEXT NOT NULL DEFAULT '[]',
      status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'revoked')),
      permissions_version INTEGER NOT NULL DEFAULT 1,
      on_permission_change TEXT NOT NULL DEFAULT 'notify' CHECK (on_permission_change IN ('notify', 'revoke_tokens')),
      public_key TEXT NOT NULL,
      key_fingerprint TEXT NOT NULL,
      created_by TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      revoked_at TEXT,
      last_auth_at TEXT,
      UNIQUE (project_id, name))`);
    // Lists page by (project, status) in id order; ids are UUID v7, so id order is creation order.
    await db.query(`CREATE INDEX agents_project_status ON agents (project_id, status, id)`);
    await db.query(`CREATE INDEX agents_project_id ON agents (project_id, id)`);

    await db.query(`CREATE TABLE agent_keys (
      id TEXT PRIMARY KEY,
      agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
      label TEXT,
      prefix TEXT NOT NULL UNIQUE,
      secret_hash TEXT NOT NULL,
      last_four TEXT NOT NULL,
      scopes TEXT NOT NULL DEFAULT '[]',
      created_at TEXT NOT NULL,
      expires_at TEXT,
      last_used_at TEXT,
      revoked_at TEXT,
      replaced_by TEXT,
      in_keychain BOOLEAN NOT NULL DEFAULT true)`);
    await db.query(`CREATE INDEX agent_keys_agent ON agent_keys (agent_id, created_at)`);

    // An agent session: the tokens issued from one authentication (key, challenge, or a human's exchange).
    await db.query(`CREATE TABLE agent_sessions (
      id TEXT PRIMARY KEY,
      agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
      via TEXT NOT NULL CHECK (via IN ('agent_key', 'challenge', 'user_exchange')),
      user_id TEXT,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      revoked_at TEXT,
      revoked_reason TEXT)`);
    await db.query(`CREATE INDEX agent_sessions_agent ON agent_sessions (agent_id)`);
    await db.query(`CREATE INDEX agent_sessions_revoked ON agent_sessions (revoked_at)`);

    await db.query(`CREATE TABLE agent_refresh_tokens (
      id TEXT PRIMARY KEY,
      session_id TEXT NOT NULL REFERENCES agent_sessions(id) ON DELETE CASCADE,
      prefix TEXT NOT NULL UNIQUE,
      token_hash TEXT NOT NULL,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      revoked_at TEXT,
      replaced_by TEXT)`);
    await db.query(`CREATE INDEX agent_refresh_tokens_session ON agent_refresh_tokens (session_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE agent_refresh_tokens`);
    await db.query(`DROP TABLE agent_sessions`);
    await db.query(`DROP TABLE agent_keys`);
    await db.query(`DROP TABLE agents`);
  }
}
