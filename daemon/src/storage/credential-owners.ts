import type { DataSource, EntitySchema } from 'typeorm';
import type { ReadManager } from './database.js';
import { AgentEntity, AgentKeyEntity, type AgentKeyRow, type AgentRow } from './agent-entities.js';
import { ProjectEntity, type ProjectRow } from './entities.js';
import { frozenRow } from './read-cache.js';

/**
 * One entity's columns in a hand-written join (`alias."col" AS "alias_col"`), read back into a row
 * exactly as TypeORM hydrates it (JSON and boolean columns included).
 */
export class JoinedColumns<T> {
  readonly select: string;
  private readonly columns;

  constructor(
    private readonly source: DataSource,
    entity: EntitySchema<T>,
    private readonly alias: string,
  ) {
    this.columns = source.getMetadata(entity).columns;
    this.select = this.columns
      .map((column) => `${alias}."${column.databaseName}" AS "${alias}_${column.databaseName}"`)
      .join(', ');
  }

  /** The row, or `null` when an outer join found none. */
  read(raw: Record<string, unknown>): T | null {
    if (raw[`${this.alias}_id`] == null) return null;
    const row: Record<string, unknown> = {};
    for (const column of this.columns) {
      row[column.propertyName] = this.source.driver.prepareHydratedValue(
        raw[`${this.alias}_${column.databaseName}`],
        column,
      );
    }
    return row as T;
  }
}

/** A key with its agent and the agent's project (either may be gone). */
export interface KeyWithOwner {
  key: AgentKeyRow;
  agent: AgentRow | null;
  project: ProjectRow | null;
}

/**
 * The reads behind every agent credential check, one raw join each instead of one TypeORM find
 * per table (they run on every agent request that misses the read caches). Rows come back
 * frozen, as the caches share them.
 */
export class CredentialOwners {
  private readonly key: JoinedColumns<AgentKeyRow>;
  private readonly agent: JoinedColumns<AgentRow>;
  private readonly project: JoinedColumns<ProjectRow>;

  constructor(source: DataSource) {
    this.key = new JoinedColumns(source, AgentKeyEntity, 'k');
    this.agent = new JoinedColumns(source, AgentEntity, 'a');
    this.project = new JoinedColumns(source, ProjectEntity, 'p');
  }

  /** The key of this prefix, its agent and the agent's project. */
  async keyWithOwner(manager: ReadManager, prefix: string): Promise<KeyWithOwner | null> {
    const [raw] = (await manager.query(
      `SELECT ${this.key.select}, ${this.agent.select}, ${this.project.select}
       FROM agent_keys k LEFT JOIN agents a ON a.id = k.agent_id LEFT JOIN projects p ON p.id = a.project_id
       WHERE k.prefix = ?`,
      [prefix],
    )) as Array<Record<string, unknown>>;
    const key = raw ? this.key.read(raw) : null;
    if (!key) return null;
    const agent = this.agent.read(raw!);
    const project = this.project.read(raw!);
    return { key: frozenRow(key), agent: agent && frozenRow(agent), project: project && frozenRow(project) };
  }

  /** The agent and its project. */
  async agentWithProject(
    manager: ReadManager,
    agentId: string,
  ): Promise<{ agent: AgentRow; project: ProjectRow } | null> {
    const [raw] = (await manager.query(
      `SELECT ${this.agent.select}, ${this.project.select}
       FROM agents a JOIN projects p ON p.id = a.project_id WHERE a.id = ?`,
      [agentId],
    )) as Array<Record<string, unknown>>;
    const agent = raw ? this.agent.read(raw) : null;
    const project = raw ? this.project.read(raw) : null;
    return agent && project ? { agent: frozenRow(agent), project: frozenRow(project) } : null;
  }
}
