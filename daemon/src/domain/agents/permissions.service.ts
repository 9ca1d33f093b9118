import { In, IsNull, type EntityManager } from 'typeorm';
import type {
  Agent,
  AuthorizeResult,
  CapabilityRole,
  CreateRoleRequest,
  CreateToolRequest,
  Tool,
  UpdateRoleRequest,
} from '@gatehouse/shared';
import { conflict, forbidden, notFound, ProblemError } from '../../errors.js';
import { AgentEntity, AgentSessionEntity, type AgentRow } from '../../storage/agent-entities.js';
import type { Database, ReadManager } from '../../storage/database.js';
import type { Dialect } from '../../storage/dialect.js';
import { ReadCache } from '../../storage/read-cache.js';
import type { ProjectRow, UserRow } from '../../storage/entities.js';
import {
  AgentRoleEntity,
  CapabilityRoleEntity,
  ToolEntity,
  type CapabilityRoleRow,
} from '../../storage/permission-entities.js';
import { ConnectionEntity, ConnectionGrantRuleEntity } from '../../storage/connection-entities.js';
import type { Actor } from '../actor.js';
import { connectionTool } from '../connections/connections.service.js';
import { assertWithinCeiling, unbounded } from '../users/tool-ceiling.js';
import type { AuditLog } from '../audit/audit-log.js';
import { findAgent, toAgent } from './agents.service.js';

type AdminActor = Actor & { user: UserRow };

const toRole = (row: CapabilityRoleRow): CapabilityRole => ({ ...row, tools: [...row.tools].sort() });
const sorted = (tools: Iterable<string>) => [...new Set(tools)].sort();

/**
 * What agents may do (SPEC §5): the server's tool registry, grants, approval-required tools and
 * capability roles. Effective tools = (allowed ∪ roles' tools) ∩ registered tools; deny by default.
 * Every change that can alter an agent's effective tools bumps its `permissions_version` in the
 * same transaction, so its older tokens are refused on the very next request.
 */
export class PermissionsService {
  private readonly heldToolsCache: ReadCache<readonly string[]>;
  private readonly registeredToolsCache: ReadCache<ReadonlySet<string>>;

  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
  ) {
    this.heldToolsCache = new ReadCache(db);
    this.registeredToolsCache = new ReadCache(db);
  }

  // ── the tool registry ─────────────────────────────────────────────────────────────────

  async listTools(): Promise<Tool[]> {
    return this.db.manager.find(ToolEntity, { order: { name: 'ASC' } });
  }

  async createTool(input: CreateToolRequest, actor: Actor): Promise<Tool> {
    return this.db.write(async (tx) => {
      if (await tx.exists(ToolEntity, { where: { name: input.name } }))
        throw conflict(`The tool "${input.name}" is already registered.`);
      const tool = { name: input.name, description: input.description ?? null, created_at: new Date().toISOString() };
      await tx.insert(ToolEntity, tool);
      // Agents already granted it (or holding a role with it) gain it now.
      const bumped = await bumpAgentsUsing(this.db.dialect, tx, [tool.name]);
      await this.permissionsChanged(tx, bumped, actor);
      await this.audit.append(tx, {
        event_type: 'tool.created',
        actor,
        target: `tool:${tool.name}`,
        metadata: { agents_affected: bumped.length },
      });
      return tool;
    });
  }

  /**
   * For registry entries added or removed outside this service (an MCP server's tools coming and
   * going): bumps every agent granted one of `tools` and applies their `on_permission_change`, in
   * the caller's transaction. Returns how many agents were affected.
   */
  async registryChanged(tx: EntityManager, tools: string[], actor: Actor): Promise<number> {
    if (tools.length === 0) return 0;
    const bumped = await bumpAgentsUsing(this.db.dialect, tx, tools);
    await this.permissionsChanged(tx, bumped, actor);
    return bumped.length;
  }

  async deleteTool(name: string, actor: Actor): Promise<void> {
    await this.db.write(async (tx) => {
      const { affected } = await tx.delete(ToolEntity, { name });
      if (!affected) throw notFound(`Tool "${name}"`);
      const bumped = await bumpAgentsUsing(this.db.dialect, tx, [name]);
      await this.permissionsChanged(tx, bumped, actor);
      await this.audit.append(tx, {
        event_type: 'tool.deleted',
        actor,
        target: `tool:${name}`,
        metadata: { agents_affected: bumped.length },
      });
    });
  }

  // ── grants on an agent ────────────────────────────────────────────────────────────────

  /** Grants `tools`; `["*"]` = every registered tool within the admin's ceiling. */
  async grant(project: ProjectRow, nameOrId: string, tools: string[], actor: AdminActor): Promise<Agent> {
    return this.db.write(async (tx) => {
      const wanted = tools.includes('*') ? await grantableTools(tx, actor.user) : tools;
      await assertRegistered(tx, wanted);
      assertWithinCeiling(actor.user, wanted, 'You may not grant');
      return this.changeAllowed(tx, project, nameOrId, actor, 'agent.tools_granted', wanted, (allowed) =>
        sorted([...allowed, ...wanted]),
      );
    });
  }

  /** Revokes `tools`; `["*"]` revokes every granted tool. */
  async revoke(project: ProjectRow, nameOrId: string, tools: string[], actor: Actor): Promise<Agent> {
    return this.db.write(async (tx) => {
      const agent = await this.changeAllowed(tx, project, nameOrId, actor, 'agent.tools_revoked', tools, (allowed) =>
        tools.includes('*') ? [] : allowed.filter((tool) => !tools.includes(tool)),
      );
      await dropNarrowingsOfGone(tx, { agent_id: agent.id }, agent.allowed_tools);
      return agent;
    });
  }

  /** Sets the tools that need a human approval on each use; only a super_admin may. */
  async setApprovalRequired(project: ProjectRow, nameOrId: string, tools: string[], actor: AdminActor): Promise<Agent> {
    if (actor.user.role !== 'super_admin') throw forbidden('Only a super_admin can set approval-required tools.');
    return this.db.write(async (tx) => {
      const agent = await findAgent(tx, project.id, nameOrId);
      const next = bump(agent, { approval_required_tools: sorted(tools) });
      await tx.save(AgentEntity, next);
      await this.permissionsChanged(tx, [agent.id], actor);
      await this.audit.append(tx, {
        event_type: 'agent.approval_tools_set',
        actor,
        agent_id: agent.id,
        project_id: project.id,
        target: `agent:${agent.name}`,
        metadata: { tools: next.approval_required_tools, permissions_version: next.permissions_version },
      });
      return toAgent(next);
    });
  }

  // ── capability roles ──────────────────────────────────────────────────────────────────

  async listRoles(): Promise<CapabilityRole[]> {
    return (await this.db.manager.find(CapabilityRoleEntity, { order: { name: 'ASC' } })).map(toRole);
  }

  /** A role's tools are handed out to every agent that holds it: within the admin's ceiling. */
  async createRole(input: CreateRoleRequest, actor: AdminActor): Promise<CapabilityRole> {
    assertWithinCeiling(actor.user, input.tools, 'You may not put in a role');
    return this.db.write(async (tx) => {
      if (await tx.exists(CapabilityRoleEntity, { where: { name: input.name } }))
        throw conflict(`The role "${input.name}" already exists.`);
      const now = new Date().toISOString();
      const role: CapabilityRoleRow = {
        name: input.name,
        description: input.description ?? null,
        tools: sorted(input.tools),
        created_at: now,
        updated_at: now,
      };
      await tx.insert(CapabilityRoleEntity, role);
      await this.audit.append(tx, {
        event_type: 'role.created',
        actor,
        target: `role:${role.name}`,
        metadata: { tools: role.tools },
      });
      return toRole(role);
    });
  }

  async updateRole(name: string, input: UpdateRoleRequest, actor: AdminActor): Promise<CapabilityRole> {
    if (input.tools) assertWithinCeiling(actor.user, input.tools, 'You may not put in a role');
    return this.db.write(async (tx) => {
      const role = await tx.findOneBy(CapabilityRoleEntity, { name });
      if (!role) throw notFound(`Role "${name}"`);
      const next: CapabilityRoleRow = {
        ...role,
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.tools !== undefined ? { tools: sorted(input.tools) } : {}),
        updated_at: new Date().toISOString(),
      };
      await tx.save(CapabilityRoleEntity, next);
      const toolsChanged = input.tools !== undefined && next.tools.join() !== sorted(role.tools).join();
      if (toolsChanged) await dropNarrowingsOfGone(tx, { role: name }, next.tools);
      const bumped = toolsChanged ? await bumpHolders(tx, name) : [];
      await this.permissionsChanged(tx, bumped, actor);
      await this.audit.append(tx, {
        event_type: 'role.updated',
        actor,
        target: `role:${name}`,
        metadata: { changed: Object.keys(input), tools: next.tools, agents_affected: bumped.length },
      });
      return toRole(next);
    });
  }

  async deleteRole(name: string, actor: Actor): Promise<void> {
    await this.db.write(async (tx) => {
      if (!(await tx.exists(CapabilityRoleEntity, { where: { name } }))) throw notFound(`Role "${name}"`);
      // Bump first: the assignments go with the role (ON DELETE CASCADE).
      const bumped = await bumpHolders(tx, name);
      await this.permissionsChanged(tx, bumped, actor);
      await tx.delete(CapabilityRoleEntity, { name });
      await this.audit.append(tx, {
        event_type: 'role.deleted',
        actor,
        target: `role:${name}`,
        metadata: { agents_affected: bumped.length },
      });
    });
  }

  async rolesOf(agent: AgentRow): Promise<CapabilityRole[]> {
    const rows = await this.db.manager
      .createQueryBuilder(CapabilityRoleEntity, 'r')
      .innerJoin(AgentRoleEntity.options.name, 'ar', 'ar.role = r.name')
      .where('ar.agent_id = :id', { id: agent.id })
      .orderBy('r.name', 'ASC')
      .getMany();
    return rows.map(toRole);
  }

  /** Assigns a role; its tools must be within the admin's ceiling, as a grant would be. */
  async assignRole(project: ProjectRow, nameOrId: string, roleName: string, actor: AdminActor): Promise<AgentRow> {
    return this.db.write(async (tx) => {
      const agent = await findAgent(tx, project.id, nameOrId);
      const role = await tx.findOneBy(CapabilityRoleEntity, { name: roleName });
      if (!role) throw notFound(`Role "${roleName}"`);
      assertWithinCeiling(actor.user, role.tools, `You may not assign the role "${roleName}", which grants`);
      if (await tx.exists(AgentRoleEntity, { where: { agent_id: agent.id, role: roleName } })) return agent;
      await tx.insert(AgentRoleEntity, { agent_id: agent.id, role: roleName, created_at: new Date().toISOString() });
      const next = bump(agent, {});
      await tx.save(AgentEntity, next);
      await this.permissionsChanged(tx, [agent.id], actor);
      await this.audit.append(tx, {
        event_type: 'agent.role_assigned',
        actor,
        agent_id: agent.id,
        project_id: project.id,
        target: `agent:${agent.name}`,
        metadata: { role: roleName, permissions_version: next.permissions_version },
      });
      return next;
    });
  }

  async removeRole(project: ProjectRow, nameOrId: string, roleName: string, actor: Actor): Promise<void> {
    await this.db.write(async (tx) => {
      const agent = await findAgent(tx, project.id, nameOrId);
      const { affected } = await tx.delete(AgentRoleEntity, { agent_id: agent.id, role: roleName });
      if (!affected) throw notFound(`Role "${roleName}" on agent "${agent.name}"`);
      const next = bump(agent, {});
      await tx.save(AgentEntity, next);
      await this.permissionsChanged(tx, [agent.id], actor);
      await this.audit.append(tx, {
        event_type: 'agent.role_removed',
        actor,
        agent_id: agent.id,
        project_id: project.id,
        target: `agent:${agent.name}`,
        metadata: { role: roleName, permissions_version: next.permissions_version },
      });
    });
  }

  /**
   * The rule of `on_permission_change`, applied in the transaction that moved the agents'
   * permissions version: every agent set to `revoke_tokens` loses every open session (and with
   * it every refresh token) and must authenticate again with its key; with `notify` only its
   * access tokens stop, through the version in their claims. Every bump of the version calls this.
   */
  async permissionsChanged(tx: EntityManager, agentIds: string[], actor: Actor): Promise<void> {
    if (agentIds.length === 0) return;
    const strict = await tx.find(AgentEntity, {
      where: { id: In(agentIds), on_permission_change: 'revoke_tokens' },
    });
    const now = new Date().toISOString();
    for (const agent of strict) {
      const { affected } = await tx.update(
        AgentSessionEntity,
        { agent_id: agent.id, revoked_at: IsNull() },
        { revoked_at: now, revoked_reason: 'permissions changed' },
      );
      if (!affected) continue;
      await this.audit.append(tx, {
        event_type: 'agent.sessions_revoked',
        actor,
        agent_id: agent.id,
        project_id: agent.project_id,
        target: `agent:${agent.name}`,
        metadata: {
          sessions_revoked: affected,
          reason: 'permissions changed',
          permissions_version: agent.permissions_version,
        },
      });
    }
  }

  // ── what an agent may do ──────────────────────────────────────────────────────────────

  /** (allowed ∪ roles' tools) ∩ registered tools, sorted, read in `manager` (a transaction's, say). */
  async effectiveTools(agent: AgentRow, manager: ReadManager = this.db.manager): Promise<string[]> {
    const rows: Array<{ name: string }> = await manager.query(
      `SELECT t.name AS name FROM tools t
       WHERE t.name IN (SELECT a.value FROM ${this.db.dialect.jsonArray('?', 'a')})
          OR t.name IN (${roleTools(this.db.dialect)})`,
      [JSON.stringify(agent.allowed_tools), agent.id],
    );
    return sorted(rows.map((row) => row.name));
  }

  /**
   * The tools an authenticated agent may use now: its effective tools, within the tool list of
   * its token when it has one (a token a human exchanged carries a narrower list).
   */
  async toolsFor(agent: AgentRow, tokenTools: string[] | null): Promise<string[]> {
    const tools = await this.heldTools(agent);
    return tokenTools === null ? [...tools] : tools.filter((tool) => tokenTools.includes(tool));
  }

  /** `POST /v1/authorize`: may the agent use `tool` now, and only after a human approves it? */
  async authorize(agent: AgentRow, tool: string, tokenTools: string[] | null): Promise<AuthorizeResult> {
    // One after the other: both are cached (a Promise.all costs more than the wait it would save).
    const registered = await this.registeredTools();
    const held = await this.heldTools(agent);
    return authorizeVerdict(registered, held, agent, tool, tokenTools);
  }

  /**
   * `authorize`'s answer without a promise, when both lists it reads are cached (an agent's
   * requests between writes); `undefined` when only `authorize` can tell.
   */
  authorizeKnown(agent: AgentRow, tool: string, tokenTools: string[] | null): AuthorizeResult | undefined {
    const registered = this.registeredToolsCache.known(REGISTERED_TOOLS);
    const held = registered && this.heldToolsCache.known(heldToolsKey(agent));
    return held && authorizeVerdict(registered.value, held.value, agent, tool, tokenTools);
  }

  // Agent requests ask these on every call: cached while the database is unchanged.
  private heldTools(agent: AgentRow): Promise<readonly string[]> {
    return this.heldToolsCache.get(heldToolsKey(agent), async () => Object.freeze(await this.effectiveTools(agent)));
  }

  private registeredTools(): Promise<ReadonlySet<string>> {
    return this.registeredToolsCache.get(REGISTERED_TOOLS, async () => {
      const rows: Array<{ name: string }> = await this.db.manager.query('SELECT name FROM tools');
      return new Set(rows.map((row) => row.name));
    });
  }

  private async changeAllowed(
    tx: EntityManager,
    project: ProjectRow,
    nameOrId: string,
    actor: Actor,
    eventType: string,
    tools: string[],
    change: (allowed: string[]) => string[],
  ): Promise<Agent> {
    const agent = await findAgent(tx, project.id, nameOrId);
    const allowed = sorted(change(agent.allowed_tools));
    // Granting what it holds or revoking what it lacks changes nothing, so its tokens stay good.
    if (allowed.join() === sorted(agent.allowed_tools).join()) return toAgent(agent);
    const next = bump(agent, { allowed_tools: allowed });
    await tx.save(AgentEntity, next);
    await this.permissionsChanged(tx, [agent.id], actor);
    await this.audit.append(tx, {
      event_type: eventType,
      actor,
      agent_id: agent.id,
      project_id: project.id,
      target: `agent:${agent.name}`,
      metadata: { tools, allowed_tools: next.allowed_tools, permissions_version: next.permissions_version },
    });
    return toAgent(next);
  }
}

/** The tools an agent (the `?` parameter) holds through its roles. */
const roleTools = (sql: Dialect) => `SELECT j.value FROM agent_roles ar JOIN capability_roles r ON r.name = ar.role,
  ${sql.jsonArray('r.tools', 'j')} WHERE ar.agent_id = ?`;

/** A grant names registered tools only: an unknown name is a typo or a tool not yet registered. */
async function assertRegistered(tx: EntityManager, tools: string[]): Promise<void> {
  const registered = new Set((await tx.find(ToolEntity, { select: { name: true } })).map((tool) => tool.name));
  const unknown = sorted(tools.filter((tool) => !registered.has(tool)));
  if (unknown.length === 0) return;
  throw new ProblemError(
    'validation_failed',
    `Not registered tools: ${unknown.join(', ')}. Register a tool (POST /admin/tools) before granting it.`,
    { errors: [{ location: 'body.tools', message: `not registered: ${unknown.join(', ')}` }] },
  );
}

/** What `["*"]` means for `user`: every registered tool within their ceiling. */
async function grantableTools(tx: EntityManager, user: UserRow): Promise<string[]> {
  const registered = (await tx.find(ToolEntity, { order: { name: 'ASC' } })).map((tool) => tool.name);
  if (unbounded(user)) return registered;
  const ceiling = new Set(user.tool_ceiling);
  return registered.filter((tool) => ceiling.has(tool));
}

/**
 * A grant's narrowing goes with the grant: drops the connection rules of `holder` (an agent's
 * direct grants, or a role) for the connections it no longer holds, so granting one again later
 * starts from the connection's own rules.
 */
async function dropNarrowingsOfGone(
  tx: EntityManager,
  holder: { agent_id: string } | { role: string },
  held: readonly string[],
): Promise<void> {
  const rules = await tx.findBy(ConnectionGrantRuleEntity, holder);
  if (rules.length === 0) return;
  const connections = await tx.findBy(ConnectionEntity, { id: In(rules.map((rule) => rule.connection_id)) });
  const gone = connections.filter((connection) => !held.includes(connectionTool(connection.name)));
  if (gone.length > 0)
    await tx.delete(ConnectionGrantRuleEntity, {
      ...holder,
      connection_id: In(gone.map((connection) => connection.id)),
    });
}

/** The agent with `changes` and its next permissions version. */
export const bump = (agent: AgentRow, changes: Partial<AgentRow>): AgentRow => ({
  ...agent,
  ...changes,
  permissions_version: agent.permissions_version + 1,
  updated_at: new Date().toISOString(),
});

/** Bumps every agent holding `role`; returns their ids. */
export async function bumpHolders(tx: EntityManager, role: string): Promise<string[]> {
  return bumpWhere(tx, 'id IN (SELECT agent_id FROM agent_roles WHERE role = ?)', [role]);
}

/** Bumps every agent granted any of `tools`, directly or through a role; returns their ids. */
async function bumpAgentsUsing(sql: Dialect, tx: EntityManager, tools: string[]): Promise<string[]> {
  const marks = tools.map(() => '?').join(', ');
  return bumpWhere(
    tx,
    `EXISTS (SELECT 1 FROM ${sql.jsonArray('agents.allowed_tools', 'a')} WHERE a.value IN (${marks}))
     OR id IN (SELECT ar.agent_id FROM agent_roles ar JOIN capability_roles r ON r.name = ar.role,
               ${sql.jsonArray('r.tools', 't')} WHERE t.value IN (${marks}))`,
    [...tools, ...tools],
  );
}

async function bumpWhere(tx: EntityManager, where: string, parameters: unknown[]): Promise<string[]> {
  const rows: Array<{ id: string }> = await tx.query(`SELECT id FROM agents WHERE ${where}`, parameters);
  if (rows.length > 0) {
    await tx
      .createQueryBuilder()
      .update(AgentEntity)
      .set({ permissions_version: () => 'permissions_version + 1', updated_at: new Date().toISOString() })
      .whereInIds(rows.map((row) => row.id))
      .execute();
  }
  return rows.map((row) => row.id);
}

/** The cache key of an agent's held tools: its permissions version ends them on any change. */
const heldToolsKey = (agent: AgentRow) => `${agent.id}@${agent.permissions_version}`;
const REGISTERED_TOOLS = 'all';

function authorizeVerdict(
  registered: ReadonlySet<string>,
  held: readonly string[],
  agent: AgentRow,
  tool: string,
  tokenTools: string[] | null,
): AuthorizeResult {
  if (!registered.has(tool)) return { allowed: false, approval_required: false, reason: 'unknown_tool' };
  if (!held.includes(tool) || (tokenTools !== null && !tokenTools.includes(tool)))
    return { allowed: false, approval_required: false, reason: 'not_granted' };
  if (agent.approval_required_tools.includes(tool))
    return { allowed: false, approval_required: true, reason: 'approval_required' };
  return { allowed: true, approval_required: false, reason: 'granted' };
}
