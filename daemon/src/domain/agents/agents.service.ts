import { createHash, generateKeyPairSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { Agent, AgentListQuery, CreateAgentRequest, IssuedAgentKey, UpdateAgentRequest } from '@gatehouse/shared';
import { conflict, notFound, ProblemError } from '../../errors.js';
import { accounts, type SecretStore } from '../../secrets/secret-store.js';
import { AgentEntity, AgentKeyEntity, type AgentRow } from '../../storage/agent-entities.js';
import { escapeLike, type Database, type ReadManager } from '../../storage/database.js';
import { ReadCache } from '../../storage/read-cache.js';
import type { ProjectRow } from '../../storage/entities.js';
import type { Actor } from '../actor.js';
import { assertWithinCeiling } from '../users/tool-ceiling.js';
import type { AuditLog } from '../audit/audit-log.js';
import { storedName } from '../names.js';
import { pageCursor, readPageCursor } from '../page-cursor.js';
import { writeWithSecrets } from '../secret-transaction.js';
import type { AgentKeysService } from './agent-keys.service.js';
import type { PermissionsService } from './permissions.service.js';

export const toAgent = (row: AgentRow): Agent => ({
  id: row.id,
  name: row.name,
  description: row.description,
  backend: row.backend,
  system_prompt: row.system_prompt,
  allowed_tools: row.allowed_tools,
  approval_required_tools: row.approval_required_tools,
  model: row.model,
  history_limit: row.history_limit,
  group_id: row.group_id,
  capability_role: row.capability_role,
  permissions_version: row.permissions_version,
  revoked: row.status !== 'active',
  on_permission_change: row.on_permission_change,
  created_at: row.created_at,
  updated_at: row.updated_at,
  provider: row.provider,
  project_id: row.project_id,
  scopes: row.scopes,
  status: row.status,
  public_key: row.public_key,
  key_fingerprint: row.key_fingerprint,
  created_by: row.created_by,
  last_auth_at: row.last_auth_at,
  revoked_at: row.revoked_at,
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An agent by id or by name, within the project, read in `tx`. */
export async function findAgent(tx: ReadManager, projectId: string, nameOrId: string): Promise<AgentRow> {
  const agent =
    (UUID.test(nameOrId) ? await tx.findOneBy(AgentEntity, { project_id: projectId, id: nameOrId }) : null) ??
    (await tx.findOneBy(AgentEntity, { project_id: projectId, name: nameOrId.normalize('NFC').trim() }));
  if (!agent) throw notFound(`Agent "${nameOrId}"`);
  return agent;
}

/** A name as stored: NFC, trimmed, 1–64 characters, no `/`. */
function agentName(raw: string): string {
  const name = storedName(raw);
  if (name.length === 0 || name.length > 64 || name.includes('/')) {
    throw new ProblemError('validation_failed', 'The agent name must be 1–64 characters after trimming, without "/".', {
      errors: [{ location: 'body.name', message: 'must be 1–64 characters after trimming, without "/"' }],
    });
  }
  return name;
}

/** A fresh Ed25519 identity: the private key (PKCS#8 PEM) for the keychain, the public half for the row. */
function newIdentity(): { privatePem: string; publicPem: string; fingerprint: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    fingerprint: `sha256:${createHash('sha256').update(der).digest('hex')}`,
  };
}

export interface AgentCreated {
  agent: Agent;
  key: IssuedAgentKey | null;
}

/** Agents of a project: identity, metadata and lifecycle (active → suspended ↔ active; → revoked, permanently). */
export class AgentsService {
  /** How many agents match a list filter, while the database is unchanged. */
  private readonly totals: ReadCache<number>;

  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly secrets: SecretStore,
    private readonly keys: AgentKeysService,
    private readonly permissions: PermissionsService,
  ) {
    this.totals = new ReadCache(db);
  }

  /**
   * A page of the project's agents in id order, how many match, and the next page's cursor. On
   * 100,000 agents both would scan the index: the total is cached while the database is
   * unchanged, and a page past the middle is read from the far end (`OFFSET` walks every row it
   * skips), then reversed. On a million even that is too slow: a cursor's page starts at its id
   * in the index, as fast at the end as at the start.
   */
  async list(
    projectId: string,
    query: AgentListQuery,
  ): Promise<{ items: Agent[]; total: number; next: string | null }> {
    const after = query.cursor === undefined ? undefined : readPageCursor(query.cursor, query.offset);
    const matching = () => {
      const q = this.db.manager.createQueryBuilder(AgentEntity, 'a').where('a.project_id = :projectId', { projectId });
      if (query.status) q.andWhere('a.status = :status', { status: query.status });
      if (query.q) {
        q.andWhere(
          `(${this.db.dialect.likeIgnoringCase('a.name', 'q')} OR ${this.db.dialect.likeIgnoringCase('a.description', 'q')})`,
          {
            q: `%${escapeLike(query.q)}%`,
          },
        );
      }
      return q;
    };
    const total = await this.totals.get(JSON.stringify([projectId, query.status, query.q]), async () => {
      // COUNT(*), not getCount()'s COUNT(DISTINCT id): half the time on the same index.
      const row = await matching().select('COUNT(*)', 'count').getRawOne<{ count: number }>();
      return row?.count ?? 0;
    });
    const limit = query.limit ?? 20;
    const page = (rows: AgentRow[], more: boolean) => ({
      items: rows.map(toAgent),
      total,
      next: more && rows.length > 0 ? pageCursor(rows.at(-1)!.id) : null,
    });
    if (after !== undefined) {
      // One row past the page says whether there is a next one.
      const rows = await matching()
        .andWhere('a.id > :after', { after })
        .orderBy('a.id', 'ASC')
        .limit(limit + 1)
        .getMany();
      return page(rows.slice(0, limit), rows.length > limit);
    }
    const offset = query.offset ?? 0;
    if (offset >= total) return page([], false);
    const fromEnd = offset > total / 2;
    const rows = await matching()
      .orderBy('a.id', fromEnd ? 'DESC' : 'ASC')
      .offset(fromEnd ? Math.max(0, total - offset - limit) : offset)
      .limit(fromEnd ? Math.min(limit, total - offset) : limit)
      .getMany();
    if (fromEnd) rows.reverse();
    return page(rows, offset + rows.length < total);
  }

  /**
   * When the agent last authenticated, as last written: the usage recorder writes it every 30
   * seconds, and a cached agent row (a credential's) keeps the time it was read with.
   */
  async lastAuthAt(agentId: string): Promise<string | null> {
    const row = await this.db.manager.findOne(AgentEntity, { select: { last_auth_at: true }, where: { id: agentId } });
    return row?.last_auth_at ?? null;
  }

  /** By id or by name, within the project. */
  find(projectId: string, nameOrId: string, tx: ReadManager = this.db.manager): Promise<AgentRow> {
    return findAgent(tx, projectId, nameOrId);
  }

  /**
   * Creates the agent, its identity key pair (private half to the keychain) and, when asked, its
   * first API key — all in one write: if any keychain write fails, nothing is stored (503).
   */
  async create(
    project: ProjectRow,
    input: CreateAgentRequest,
    options: { issueKey: boolean },
    actor: Actor,
  ): Promise<AgentCreated> {
    const name = agentName(input.name);
    if (actor.user && input.allowed_tools)
      assertWithinCeiling(actor.user, input.allowed_tools, 'You may not give a new agent');
    const identity = newIdentity();
    return writeWithSecrets(this.db, this.secrets, async (tx, secrets) => {
      if (await tx.exists(AgentEntity, { where: { project_id: project.id, name } })) {
        throw conflict(`An agent named "${name}" already exists in project "${project.slug}".`);
      }
      const now = new Date().toISOString();
      const row: AgentRow = {
        id: uuidv7(),
        project_id: project.id,
        name,
        description: input.description ?? null,
        provider: input.provider ?? null,
        backend: input.backend ?? null,
        model: input.model ?? null,
        system_prompt: input.system_prompt ?? null,
        allowed_tools: [...new Set(input.allowed_tools ?? [])],
        approval_required_tools: [],
        history_limit: input.history_limit ?? null,
        group_id: input.group_id ?? null,
        capability_role: input.capability_role ?? 'worker',
        scopes: [...new Set(input.scopes ?? [])],
        status: 'active',
        permissions_version: 1,
        on_permission_change: input.on_permission_change ?? 'notify',
        public_key: identity.publicPem,
        key_fingerprint: identity.fingerprint,
        created_by: actor.user?.id ?? null,
        created_at: now,
        updated_at: now,
        revoked_at: null,
        last_auth_at: null,
      };
      await tx.insert(AgentEntity, row);
      await this.audit.append(tx, {
        event_type: 'agent.created',
        actor,
        agent_id: row.id,
        project_id: project.id,
        target: `agent:${name}`,
        metadata: { key_fingerprint: row.key_fingerprint },
      });
      await secrets.set(accounts.agentIdentity(row.id), identity.privatePem);
      const key = options.issueKey
        ? await this.keys.issue(tx, secrets, { agent: row, projectSlug: project.slug }, {}, actor)
        : null;
      return { agent: toAgent(row), key };
    });
  }

  async update(project: ProjectRow, nameOrId: string, input: UpdateAgentRequest, actor: Actor): Promise<Agent> {
    const { updated, renamedFrom } = await this.db.write(async (tx) => {
      const agent = await this.find(project.id, nameOrId, tx);
      const changes: Partial<AgentRow> = {};
      for (const field of [
        'description',
        'backend',
        'system_prompt',
        'model',
        'history_limit',
        'group_id',
        'provider',
        'capability_role',
        'on_permission_change',
      ] as const) {
        if (input[field] !== undefined) (changes as Record<string, unknown>)[field] = input[field];
      }
      if (input.scopes !== undefined) changes.scopes = [...new Set(input.scopes)];
      if (input.name !== undefined) {
        const name = agentName(input.name);
        if (name !== agent.name && (await tx.exists(AgentEntity, { where: { project_id: project.id, name } }))) {
          throw conflict(`An agent named "${name}" already exists in project "${project.slug}".`);
        }
        changes.name = name;
      }
      // Narrowing scopes changes what the agent may do: its tokens must be re-issued.
      const scopesNarrowed =
        changes.scopes !== undefined && agent.scopes.some((scope) => !changes.scopes!.includes(scope));
      if (scopesNarrowed) changes.permissions_version = agent.permissions_version + 1;
      const updated: AgentRow = { ...agent, ...changes, updated_at: new Date().toISOString() };
      await tx.save(AgentEntity, updated);
      if (scopesNarrowed) await this.permissions.permissionsChanged(tx, [agent.id], actor);
      await this.audit.append(tx, {
        event_type: 'agent.updated',
        actor,
        agent_id: agent.id,
        project_id: project.id,
        target: `agent:${updated.name}`,
        metadata: { changed: Object.keys(input), ...(changes.name ? { previous_name: agent.name } : {}) },
      });
      return { updated, renamedFrom: changes.name && changes.name !== agent.name ? agent.name : null };
    });
    if (renamedFrom) await this.moveAlias(project.slug, renamedFrom, updated.name);
    return toAgent(updated);
  }

  /** Hard delete: the row, its keys (cascade), and every keychain entry of the agent. */
  async delete(project: ProjectRow, nameOrId: string, actor: Actor): Promise<{ deleted: string }> {
    const { agent, keys } = await this.db.write(async (tx) => {
      const agent = await this.find(project.id, nameOrId, tx);
      const keys = await tx.findBy(AgentKeyEntity, { agent_id: agent.id });
      await tx.delete(AgentEntity, { id: agent.id });
      await this.audit.append(tx, {
        event_type: 'agent.deleted',
        actor,
        agent_id: agent.id,
        project_id: project.id,
        target: `agent:${agent.name}`,
      });
      return { agent, keys };
    });
    await this.keys.forgetAll({ agent, projectSlug: project.slug }, keys);
    await this.secrets.delete(accounts.agentIdentity(agent.id)).catch(() => false);
    return { deleted: agent.name };
  }

  /**
   * Suspends (`to: 'suspended'`), resumes (`'active'`) or permanently revokes (`'revoked'`). A
   * revoked agent's keys can never work again, so their keychain items and its alias go with it.
   */
  async setStatus(project: ProjectRow, nameOrId: string, to: AgentRow['status'], actor: Actor): Promise<AgentRow> {
    const { updated, deadKeys } = await this.db.write(async (tx) => {
      const agent = await this.find(project.id, nameOrId, tx);
      if (agent.status === to) return { updated: agent, deadKeys: [] };
      if (agent.status === 'revoked')
        throw conflict(
          `Agent "${agent.name}" was revoked permanently and cannot be ${to === 'active' ? 'resumed' : 'changed'}.`,
        );
      const now = new Date().toISOString();
      const updated: AgentRow = {
        ...agent,
        status: to,
        revoked_at: to === 'active' ? null : now,
        // Every token issued before this moment stops working on the next request.
        permissions_version: agent.permissions_version + 1,
        updated_at: now,
      };
      await tx.save(AgentEntity, updated);
      await this.permissions.permissionsChanged(tx, [agent.id], actor);
      const eventType = { active: 'agent.resumed', suspended: 'agent.suspended', revoked: 'agent.revoked' }[to];
      await this.audit.append(tx, {
        event_type: eventType,
        actor,
        agent_id: agent.id,
        project_id: project.id,
        target: `agent:${agent.name}`,
      });
      return { updated, deadKeys: to === 'revoked' ? await tx.findBy(AgentKeyEntity, { agent_id: agent.id }) : [] };
    });
    if (deadKeys.length > 0) await this.keys.forgetAll({ agent: updated, projectSlug: project.slug }, deadKeys);
    return updated;
  }

  private async moveAlias(projectSlug: string, from: string, to: string): Promise<void> {
    try {
      const secret = await this.secrets.get(accounts.agentAlias(projectSlug, from));
      if (secret === null) return;
      await this.secrets.set(accounts.agentAlias(projectSlug, to), secret);
      await this.secrets.delete(accounts.agentAlias(projectSlug, from));
    } catch {
      // The per-key entries still hold the key; the alias is re-made by the next issued key.
    }
  }
}
