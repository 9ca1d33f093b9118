import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * PostgreSQL's twin of ../0005-workflows.ts (DOUBLE PRECISION where SQLite has REAL (4 bytes here, 8 there)).
 *
 * Workflows (graphs of nodes and edges) and their agent users. Node and edge ids (`n1`, `e1`…)
 * are unique within a workflow and never reused: the workflow row keeps the next numbers.
 * Edges have no foreign key to nodes on purpose: an edge may name a node that is not there
 * (validation reports it); deleting a node deletes its edges in the service.
 */
export class Workflows1795398400000 implements MigrationInterface {
  name = 'Workflows1795398400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE workflows (
      id TEXT PRIMARY KEY,
      project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      name TEXT NOT NULL,
      slug TEXT NOT NULL,
      definition TEXT NOT NULL DEFAULT '',
      next_node INTEGER NOT NULL DEFAULT 1,
      next_edge INTEGER NOT NULL DEFAULT 1,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      UNIQUE (project_id, name),
      UNIQUE (project_id, slug))`);
    await db.query(`CREATE TABLE workflow_nodes (
      workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
      id TEXT NOT NULL,
      node_type TEXT NOT NULL CHECK (node_type IN ('agent', 'start', 'end', 'tool', 'approval')),
      agent_id TEXT REFERENCES agents(id) ON DELETE SET NULL,
      label TEXT,
      position_x DOUBLE PRECISION NOT NULL DEFAULT 0,
      position_y DOUBLE PRECISION NOT NULL DEFAULT 0,
      config TEXT NOT NULL DEFAULT '{}',
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      PRIMARY KEY (workflow_id, id))`);
    await db.query(`CREATE INDEX workflow_nodes_agent ON workflow_nodes (agent_id)`);
    await db.query(`CREATE TABLE workflow_edges (
      workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
      id TEXT NOT NULL,
      source_node_id TEXT NOT NULL,
      target_node_id TEXT NOT NULL,
      edge_type TEXT NOT NULL CHECK (edge_type IN ('default', 'conditional')),
      condition TEXT,
      created_at TEXT NOT NULL,
      PRIMARY KEY (workflow_id, id))`);
    await db.query(`CREATE TABLE agent_users (
      user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
      workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
      node_id TEXT NOT NULL,
      agent_id TEXT REFERENCES agents(id) ON DELETE SET NULL,
      key_id TEXT REFERENCES agent_keys(id) ON DELETE SET NULL,
      created_at TEXT NOT NULL,
      UNIQUE (workflow_id, node_id))`);
    await db.query(`CREATE UNIQUE INDEX agent_users_key ON agent_users (key_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE agent_users`);
    await db.query(`DROP TABLE workflow_edges`);
    await db.query(`DROP TABLE workflow_nodes`);
    await db.query(`DROP TABLE workflows`);
  }
}
