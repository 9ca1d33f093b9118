import { In, type EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import type { ConnectionGrant, ConnectionGrantRequest } from '@gatehouse/shared';
import { notFound, ProblemError } from '../../errors.js';
import { AgentEntity, type AgentRow } from '../../storage/agent-entities.js';
import {
  ConnectionEntity,
  ConnectionGrantRuleEntity,
  type ConnectionGrantRuleRow,
  type ConnectionRow,
} from '../../storage/connection-entities.js';
import type { Database } from '../../storage/database.js';
import type { ProjectRow, UserRow } from '../../storage/entities.js';
import { CapabilityRoleEntity } from '../../storage/permission-entities.js';
import { ReadCache } from '../../storage/read-cache.js';
import type { Actor } from '../actor.js';
import { findAgent } from '../agents/agents.service.js';
import { bump, bumpHolders, type PermissionsService } from '../agents/permissions.service.js';
import type { AuditLog } from '../audit/audit-log.js';
import { assertWithinCeiling } from '../users/tool-ceiling.js';
import { connectionTool, patternWithin, pathMatcher, type BrokeredConnection } from './connections.service.js';

type AdminActor = Actor & { user: UserRow };

/** What one agent's grants of one connection let it call, on top of the connection's own rules. */
export type GrantedRequests = (method: string, path: string) => boolean;

const everything: GrantedRequests = () => true;

/** A grant's methods and paths as a test; empty lists leave the connection's rules alone. */
function grantedBy(rule: ConnectionGrantRuleRow | undefined): GrantedRequests {
  if (!rule) return everything;
  const methods = new Set(rule.allowed_methods);
  const paths = pathMatcher(rule.allowed_paths);
  return (method, path) => (methods.size === 0 || methods.has(method)) && paths(path);
}

/** The narrowing as asked, or 400 when it names a method or path the connection does not allow. */
function narrowing(connection: ConnectionRow, input: ConnectionGrantRequest) {
  const methods = [...(input.allowed_methods ?? [])].sort();
  const paths = [...(input.allowed_paths ?? [])].sort();
  const wider = [
    ...methods.filter(
      (method) => connection.allowed_methods.length > 0 && !connection.allowed_methods.includes(method),
    ),
    ...paths.filter(
      (path) =>
        connection.allowed_paths.length > 0 &&
        !connection.allowed_paths.some((allowed) => patternWithin(path, allowed)),
    ),
  ];
  if (wider.length > 0)
    throw new ProblemError(
      'grant_wider_than_connection',
      `A grant only narrows its connection: "${connection.name}" does not allow ${wider.join(', ')} ` +
        `(it allows ${connection.allowed_methods.join(', ') || 'every method'} on ${connection.allowed_paths.join(', ') || 'every path'}).`,
    );
  return { allowed_methods: methods, allowed_paths: paths };
}

const sameRules = (row: ConnectionGrantRuleRow | null, rules: ReturnType<typeof narrowing>) =>
  (row?.allowed_methods ?? []).join() === rules.allowed_methods.join() &&
  (row?.allowed_paths ?? []).join() === rules.allowed_paths.join();

/**
 * Grants of connections to agents and roles (SPEC §11), each optionally narrowed to methods and
 * path patterns within the connection's own. A grant is the tool `connection:<name>` held as any
 * other tool; its narrowing is a row beside it. An agent holding the connection through several
 * grants (directly, through roles) may make a call any one of them allows.
 */
export class ConnectionGrantsService {
  private readonly granted: ReadCache<GrantedRequests>;

  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly permissions: PermissionsService,
  ) {
    this.granted = new ReadCache(db);
  }

  async list(project: ProjectRow, name: string): Promise<ConnectionGrant[]> {
    const manager = this.db.manager;
    const connection = await findConnection(manager, project, name);
    const tool = connectionTool(name);
    const [agents, roles, rules] = await Promise.all([
      manager.find(AgentEntity, { where: { project_id: project.id }, order: { name: 'ASC' } }),
      manager.find(CapabilityRoleEntity, { order: { name: 'ASC' } }),
      manager.findBy(ConnectionGrantRuleEntity, { connection_id: connection.id }),
    ]);
    const grant = (subject: 'agent' | 'role', holder: string, rule: ConnectionGrantRuleRow | undefined) => ({
      subject,
      name: holder,
      allowed_methods: rule?.allowed_methods ?? [],
      allowed_paths: rule?.allowed_paths ?? [],
    });
    return [
      ...agents
        .filter((agent) => agent.allowed_tools.includes(tool))
        .map((agent) =>
          grant(
            'agent',
            agent.name,
            rules.find((rule) => rule.agent_id === agent.id),
          ),
        ),
      ...roles
        .filter((role) => role.tools.includes(tool))
        .map((role) =>
          grant(
            'role',
            role.name,
            rules.find((rule) => rule.role === role.name),
          ),
        ),
    ];
  }

  /** Grants the connection to an agent with `input`'s narrowing (or changes the narrowing it has). */
  async setForAgent(
    project: ProjectRow,
    name: string,
    agentName: string,
    input: ConnectionGrantRequest,
    actor: AdminActor,
  ): Promise<ConnectionGrant> {
    return this.db.write(async (tx) => {
      const connection = await findConnection(tx, project, name);
      const rules = narrowing(connection, input);
      const agent = await findAgent(tx, project.id, agentName);
      const tool = connectionTool(name);
      assertWithinCeiling(actor.user, [tool], 'You may not grant');
      const existing = await tx.findOneBy(ConnectionGrantRuleEntity, {
        connection_id: connection.id,
        agent_id: agent.id,
      });
      if (!agent.allowed_tools.includes(tool) || !sameRules(existing, rules)) {
        await putRule(tx, existing, { connection_id: connection.id, agent_id: agent.id, role: null }, rules);
        const next = bump(agent, { allowed_tools: [...new Set([...agent.allowed_tools, tool])].sort() });
        await tx.save(AgentEntity, next);
        await this.permissions.permissionsChanged(tx, [agent.id], actor);
        await this.audit.append(tx, {
          event_type: 'agent.tools_granted',
          actor,
          agent_id: agent.id,
          project_id: project.id,
          target: `agent:${agent.name}`,
          metadata: { tools: [tool], ...rules, permissions_version: next.permissions_version },
        });
      }
      return { subject: 'agent', name: agent.name, ...rules };
    });
  }

  async revokeFromAgent(project: ProjectRow, name: string, agentName: string, actor: Actor): Promise<void> {
    await this.db.write(async (tx) => {
      const connection = await findConnection(tx, project, name);
      const agent = await findAgent(tx, project.id, agentName);
      const tool = connectionTool(name);
      if (!agent.allowed_tools.includes(tool)) throw notFound(`A grant of "${name}" to agent "${agent.name}"`);
      await tx.delete(ConnectionGrantRuleEntity, { connection_id: connection.id, agent_id: agent.id });
      const next = bump(agent, { allowed_tools: agent.allowed_tools.filter((held) => held !== tool) });
      await tx.save(AgentEntity, next);
      await this.permissions.permissionsChanged(tx, [agent.id], actor);
      await this.audit.append(tx, {
        event_type: 'agent.tools_revoked',
        actor,
        agent_id: agent.id,
        project_id: project.id,
        target: `agent:${agent.name}`,
        metadata: { tools: [tool], permissions_version: next.permissions_version },
      });
    });
  }

  /** Puts the connection in a role with `input`'s narrowing (or changes the narrowing it has there). */
  async setForRole(
    project: ProjectRow,
    name: string,
    roleName: string,
    input: ConnectionGrantRequest,
    actor: AdminActor,
  ): Promise<ConnectionGrant> {
    return this.db.write(async (tx) => {
      const connection = await findConnection(tx, project, name);
      const rules = narrowing(connection, input);
      const role = await tx.findOneBy(CapabilityRoleEntity, { name: roleName });
      if (!role) throw notFound(`Role "${roleName}"`);
      const tool = connectionTool(name);
      assertWithinCeiling(actor.user, [tool], 'You may not put in a role');
      const existing = await tx.findOneBy(ConnectionGrantRuleEntity, { connection_id: connection.id, role: role.name });
      if (!role.tools.includes(tool) || !sameRules(existing, rules)) {
        await putRule(tx, existing, { connection_id: connection.id, agent_id: null, role: role.name }, rules);
        const tools = [...new Set([...role.tools, tool])].sort();
        await tx.save(CapabilityRoleEntity, { ...role, tools, updated_at: new Date().toISOString() });
        const bumped = await bumpHolders(tx, role.name);
        await this.permissions.permissionsChanged(tx, bumped, actor);
        await this.audit.append(tx, {
          event_type: 'role.updated',
          actor,
          target: `role:${role.name}`,
          metadata: { changed: ['tools'], tools, connection: tool, ...rules, agents_affected: bumped.length },
        });
      }
      return { subject: 'role', name: role.name, ...rules };
    });
  }

  async revokeFromRole(project: ProjectRow, name: string, roleName: string, actor: Actor): Promise<void> {
    await this.db.write(async (tx) => {
      const connection = await findConnection(tx, project, name);
      const role = await tx.findOneBy(CapabilityRoleEntity, { name: roleName });
      const tool = connectionTool(name);
      if (!role?.tools.includes(tool)) throw notFound(`"${name}" in role "${roleName}"`);
      await tx.delete(ConnectionGrantRuleEntity, { connection_id: connection.id, role: role.name });
      const tools = role.tools.filter((held) => held !== tool);
      await tx.save(CapabilityRoleEntity, { ...role, tools, updated_at: new Date().toISOString() });
      const bumped = await bumpHolders(tx, role.name);
      await this.permissions.permissionsChanged(tx, bumped, actor);
      await this.audit.append(tx, {
        event_type: 'role.updated',
        actor,
        target: `role:${role.name}`,
        metadata: { changed: ['tools'], tools, agents_affected: bumped.length },
      });
    });
  }

  /**
   * What `agent`'s grants of `connection` let it call: the union of its direct grant's and its
   * roles' narrowings (a grant without one allows all the connection does). Asked by the broker on
   * every call, so it is read once per database generation.
   */
  grantedRequests(agent: AgentRow, connection: BrokeredConnection): Promise<GrantedRequests> {
    return this.granted.get(`${agent.id}@${agent.permissions_version}/${connection.row.id}`, async () => {
      const roles = (await this.permissions.rolesOf(agent)).filter((role) => role.tools.includes(connection.tool));
      const holders = [
        ...(agent.allowed_tools.includes(connection.tool) ? [{ agent_id: agent.id }] : []),
        ...(roles.length > 0 ? [{ role: In(roles.map((role) => role.name)) }] : []),
      ];
      if (holders.length === 0) return () => false;
      const rules = await this.db.manager.findBy(
        ConnectionGrantRuleEntity,
        holders.map((holder) => ({ connection_id: connection.row.id, ...holder })),
      );
      const grants = [
        ...(agent.allowed_tools.includes(connection.tool)
          ? [grantedBy(rules.find((rule) => rule.agent_id === agent.id))]
          : []),
        ...roles.map((role) => grantedBy(rules.find((rule) => rule.role === role.name))),
      ];
      if (grants.includes(everything)) return everything;
      return (method, path) => grants.some((allows) => allows(method, path));
    });
  }
}

async function findConnection(manager: Pick<EntityManager, 'findOneBy'>, project: ProjectRow, name: string) {
  const connection = await manager.findOneBy(ConnectionEntity, { project_id: project.id, name });
  if (!connection) throw notFound(`Connection "${name}"`);
  return connection;
}

/** Writes a grant's narrowing; a grant without one keeps no row. */
async function putRule(
  tx: EntityManager,
  existing: ConnectionGrantRuleRow | null,
  holder: Pick<ConnectionGrantRuleRow, 'connection_id' | 'agent_id' | 'role'>,
  rules: ReturnType<typeof narrowing>,
): Promise<void> {
  const now = new Date().toISOString();
  if (rules.allowed_methods.length === 0 && rules.allowed_paths.length === 0) {
    if (existing) await tx.delete(ConnectionGrantRuleEntity, { id: existing.id });
  } else if (existing) await tx.save(ConnectionGrantRuleEntity, { ...existing, ...rules, updated_at: now });
  else
    await tx.insert(ConnectionGrantRuleEntity, { id: uuidv7(), ...holder, ...rules, created_at: now, updated_at: now });
}
