import { randomUUID } from 'node:crypto';
import { In, type EntityManager } from 'typeorm';
import type { AgentUserCredentials, AgentUserWhoami, CreateAgentUserRequest } from '@gatehouse/shared';
import { conflict, forbidden, notFound, ProblemError } from '../../errors.js';
import { accounts, type SecretStore } from '../../secrets/secret-store.js';
import { AgentEntity, AgentKeyEntity, type AgentKeyRow, type AgentRow } from '../../storage/agent-entities.js';
import type { Database } from '../../storage/database.js';
import { frozenRow, ReadCache } from '../../storage/read-cache.js';
import { ProjectEntity, UserEntity, type ProjectRow, type UserRow } from '../../storage/entities.js';
import {
  AgentUserEntity,
  WorkflowEntity,
  WorkflowNodeEntity,
  type AgentUserRow,
  type WorkflowNodeRow,
  type WorkflowRow,
} from '../../storage/workflow-entities.js';
import type { Actor } from '../actor.js';
import { isKeyActive, type AgentKeysService, type KeyOwner } from '../agents/agent-keys.service.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { MfaService } from '../auth/mfa.service.js';
import { currentTotpCode, newTotpSecret, totpSecondsLeft } from '../auth/totp.js';
import { writeWithSecrets } from '../secret-transaction.js';

/** Who asks for a node's credentials: a project admin, or the agent bound to that node. */
export type Provisioner = { kind: 'user' } | { kind: 'agent'; agent: AgentRow };

/** What a removed agent user leaves in the keychain, cleared once its rows are gone. */
export interface RemovedAgentUser {
  userId: string;
  key: AgentKeyRow | null;
  owner: KeyOwner | null;
}

/** An authenticated agent user: the key it used leads to its node. */
export interface AgentUserIdentity {
  user: UserRow;
  link: AgentUserRow;
  workflow: WorkflowRow;
  node: WorkflowNodeRow;
}

export const agentUsername = (workflowSlug: string, nodeId: string) => `agent_${workflowSlug}_${nodeId}`;

export const nodeConfig = (node: WorkflowNodeRow): Record<string, unknown> =>
  JSON.parse(node.config) as Record<string, unknown>;

/** The node's own prompt, else its agent's: what the agent user runs with. */
export const nodeSystemPrompt = (node: WorkflowNodeRow, agent: AgentRow | null): string => {
  const prompt = nodeConfig(node).system_prompt;
  return typeof prompt === 'string' ? prompt : (agent?.system_prompt ?? '');
};

export const nodeExtraConfig = (node: WorkflowNodeRow): Record<string, unknown> => {
  const extra = nodeConfig(node).extra_config;
  return extra && typeof extra === 'object' && !Array.isArray(extra) ? (extra as Record<string, unknown>) : {};
};

/**
 * Pipelit's agent users: one user `agent_{workflow_slug}_{node_id}` per workflow node, with no
 * password (it cannot log in), a TOTP secret and one API key of the node's agent, both in the
 * OS keychain. Provisioning is idempotent: a repeat call reads the same key back from the
 * keychain, and racing calls queue on the database's single writer, so only the first creates.
 */
export class AgentUsersService {
  private readonly byKey: ReadCache<AgentUserIdentity | null>;

  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly secrets: SecretStore,
    private readonly keys: AgentKeysService,
    private readonly mfa: MfaService,
  ) {
    this.byKey = new ReadCache(db);
  }

  async provision(
    project: ProjectRow,
    slug: string,
    nodeId: string,
    input: CreateAgentUserRequest,
    caller: Provisioner,
    actor: Actor,
    daemonUrl: string,
  ): Promise<{ credentials: AgentUserCredentials; created: boolean }> {
    return writeWithSecrets(this.db, this.secrets, async (tx, secrets) => {
      const workflow = await tx.findOneBy(WorkflowEntity, { project_id: project.id, slug });
      if (!workflow) throw notFound(`Workflow "${slug}"`);
      const node = await tx.findOneBy(WorkflowNodeEntity, { workflow_id: workflow.id, id: nodeId });
      if (!node) throw notFound(`Node "${nodeId}" of workflow "${slug}"`);
      if (caller.kind === 'agent' && caller.agent.id !== node.agent_id)
        throw forbidden(`Only the agent bound to node ${nodeId} (or a project admin) can get its credentials.`);

      const username = agentUsername(workflow.slug, node.id);
      const apiBaseUrl = input.api_base_url ?? stringOr(nodeExtraConfig(node).api_base_url) ?? daemonUrl;
      const link = await tx.findOneBy(AgentUserEntity, { workflow_id: workflow.id, node_id: node.id });
      const existingUser = link
        ? await tx.findOneBy(UserEntity, { id: link.user_id })
        : await tx.findOneBy(UserEntity, { username, kind: 'agent' });

      const key = link?.key_id ? await this.liveKey(tx, link.key_id) : null;
      if (link && existingUser && key) {
        const apiKey = await this.secrets.get(accounts.agentKey(key.id));
        if (!apiKey)
          throw new ProblemError(
            'credentials_unrecoverable',
            `The key of ${username} is no longer in the OS keychain, so it cannot be shown again; rotate it (POST /admin/agents/{name}/keys/${key.id}/rotate) to get new credentials.`,
          );
        if (key.id !== link.key_id) await tx.update(AgentUserEntity, { user_id: link.user_id }, { key_id: key.id });
        return {
          created: false,
          credentials: {
            success: true,
            username,
            api_key: apiKey,
            api_base_url: apiBaseUrl,
            purpose: existingUser.first_name ?? '',
            already_existed: true,
            keychain: this.keys.keychainLocation(key.id),
          },
        };
      }

      // New credentials: the node needs an active agent for the key to belong to.
      const agent = node.agent_id ? await tx.findOneBy(AgentEntity, { id: node.agent_id }) : null;
      if (!agent) throw conflict(`Node ${node.id} has no agent; bind one before creating its agent user.`);
      if (agent.status !== 'active') throw conflict(`Agent "${agent.name}" of node ${node.id} is ${agent.status}.`);

      const now = new Date().toISOString();
      const purpose = input.purpose?.trim() ?? existingUser?.first_name ?? '';
      const user: UserRow = existingUser ?? {
        id: randomUUID(),
        username,
        email: null,
        kind: 'agent',
        password_hash: null,
        role: 'viewer',
        tool_ceiling: [],
        mfa_enabled: true,
        totp_last_step: null,
        totp_failures: 0,
        totp_locked_until: null,
        failed_logins: 0,
        locked_until: null,
        first_name: purpose || null,
        middle_name: null,
        last_name: null,
        disabled: false,
        created_at: now,
        updated_at: now,
      };
      if (!existingUser) {
        await tx.insert(UserEntity, user);
        await secrets.set(accounts.totp(user.id), newTotpSecret());
      }
      const issued = await this.keys.issue(
        tx,
        secrets,
        { agent, projectSlug: project.slug },
        { label: username, expires_in_days: 0 },
        actor,
        'agent_user',
      );
      await tx.upsert(
        AgentUserEntity,
        {
          user_id: user.id,
          workflow_id: workflow.id,
          node_id: node.id,
          agent_id: agent.id,
          key_id: issued.id,
          created_at: link?.created_at ?? now,
        },
        ['user_id'],
      );
      await this.audit.append(tx, {
        event_type: link ? 'agent_user.key_reissued' : 'agent_user.created',
        actor,
        agent_id: agent.id,
        project_id: project.id,
        target: `user:${username}`,
        metadata: { workflow_id: workflow.id, node_id: node.id, key_id: issued.id },
      });
      return {
        created: true,
        credentials: {
          success: true,
          username,
          api_key: issued.api_key,
          api_base_url: apiBaseUrl,
          purpose: user.first_name ?? '',
          already_existed: false,
          keychain: this.keys.keychainLocation(issued.id),
        },
      };
    });
  }

  /**
   * The agent user a key belongs to, or null for an ordinary agent key. Asked on agent requests
   * (whoami): cached while the database is unchanged, so the rows are frozen.
   */
  forKey(keyId: string | null): Promise<AgentUserIdentity | null> {
    return keyId ? this.byKey.get(keyId, () => this.readForKey(keyId)) : Promise.resolve(null);
  }

  private async readForKey(keyId: string): Promise<AgentUserIdentity | null> {
    const link = await this.db.manager.findOneBy(AgentUserEntity, { key_id: keyId });
    if (!link) return null;
    const [user, workflow, node] = await Promise.all([
      this.db.manager.findOneBy(UserEntity, { id: link.user_id }),
      this.db.manager.findOneBy(WorkflowEntity, { id: link.workflow_id }),
      this.db.manager.findOneBy(WorkflowNodeEntity, { workflow_id: link.workflow_id, id: link.node_id }),
    ]);
    if (!user || user.disabled || !workflow || !node) return null;
    return Object.freeze({
      user: frozenRow(user),
      link: frozenRow(link),
      workflow: frozenRow(workflow),
      node: frozenRow(node),
    });
  }

  /** `GET /v1/whoami` for an agent user, in Pipelit's shape. */
  whoami(me: AgentUserIdentity, agent: AgentRow): AgentUserWhoami {
    const prompt = nodeSystemPrompt(me.node, agent);
    const endpoint = `/v1/workflows/${me.workflow.slug}/nodes/${me.node.id}`;
    return {
      principal: 'agent_user',
      identity: {
        username: me.user.username,
        workflow_slug: me.workflow.slug,
        workflow_id: me.workflow.id,
        node_id: me.node.id,
        agent_id: me.link.agent_id,
      },
      current_config: {
        system_prompt: prompt.slice(0, 1000),
        system_prompt_length: prompt.length,
        extra_config: nodeExtraConfig(me.node),
      },
      self_modification: {
        endpoint,
        method: 'PATCH',
        example_body: { system_prompt: 'You are a helpful assistant. Greet users warmly.' },
      },
    };
  }

  /** The agent user's current TOTP code, computed from the secret in the keychain. */
  async totp(me: AgentUserIdentity) {
    const secret = await this.secrets.get(accounts.totp(me.user.id));
    if (!secret)
      throw new ProblemError(
        'credentials_unrecoverable',
        `The TOTP secret of ${me.user.username} is missing from the keychain.`,
      );
    return {
      success: true as const,
      username: me.user.username,
      totp_code: currentTotpCode(secret),
      expires_in: totpSecondsLeft(),
    };
  }

  /**
   * Checks an agent user's code with the SPEC §4 rules (once only, 5 tries a minute, lockout), for
   * callers in the agent user's own project: elsewhere it is not found, so that nobody outside the
   * project can spend its tries and lock it out.
   */
  async verifyTotp(project: ProjectRow, username: string, code: string, actor: Actor): Promise<{ valid: boolean }> {
    const user = await this.db.manager.findOneBy(UserEntity, { username, kind: 'agent' });
    const link = user && (await this.db.manager.findOneBy(AgentUserEntity, { user_id: user.id }));
    const workflow = link && (await this.db.manager.findOneBy(WorkflowEntity, { id: link.workflow_id }));
    if (!user || workflow?.project_id !== project.id) throw notFound(`Agent user "${username}"`);
    try {
      await this.mfa.checkCode(user, code, actor);
      return { valid: true };
    } catch (error) {
      if (error instanceof ProblemError && error.code === 'unauthorized') return { valid: false };
      throw error;
    }
  }

  /**
   * Removes the agent users of a workflow (or of one node of it) inside the caller's write:
   * their keys are revoked and their user rows deleted. The keychain is cleared afterwards,
   * with `forgetSecrets`, once the rows are surely gone.
   */
  async removeInWorkflow(
    tx: EntityManager,
    workflow: WorkflowRow,
    nodeId: string | null,
    actor: Actor,
  ): Promise<RemovedAgentUser[]> {
    const links = await tx.findBy(AgentUserEntity, {
      workflow_id: workflow.id,
      ...(nodeId ? { node_id: nodeId } : {}),
    });
    if (links.length === 0) return [];
    const slugOf = new Map<string, string>();
    const removed: RemovedAgentUser[] = [];
    const now = new Date().toISOString();
    for (const link of links) {
      const key = link.key_id ? await tx.findOneBy(AgentKeyEntity, { id: link.key_id }) : null;
      const agent = key ? await tx.findOneBy(AgentEntity, { id: key.agent_id }) : null;
      if (key && agent && isKeyActive(key, now)) {
        await tx.update(AgentKeyEntity, { id: key.id }, { revoked_at: now });
        await this.audit.append(tx, {
          event_type: 'key.revoked',
          actor,
          agent_id: agent.id,
          project_id: agent.project_id,
          target: `key:${key.prefix}`,
          metadata: { key_id: key.id, reason: 'agent_user_removed' },
        });
      }
      if (agent && !slugOf.has(agent.project_id)) slugOf.set(agent.project_id, await this.projectSlug(tx, agent));
      removed.push({
        userId: link.user_id,
        key: key ? { ...key, revoked_at: key.revoked_at ?? now } : null,
        owner: agent ? { agent, projectSlug: slugOf.get(agent.project_id)! } : null,
      });
    }
    await tx.delete(UserEntity, { id: In(links.map((link) => link.user_id)) });
    await this.audit.append(tx, {
      event_type: 'agent_user.deleted',
      actor,
      project_id: workflow.project_id,
      target: `workflow:${workflow.slug}`,
      metadata: { users: links.map((link) => agentUsername(workflow.slug, link.node_id)) },
    });
    return removed;
  }

  async forgetSecrets(removed: RemovedAgentUser[]): Promise<void> {
    for (const { userId, key, owner } of removed) {
      await this.secrets.delete(accounts.totp(userId)).catch(() => false);
      if (key && owner) await this.keys.forgetKeySecret(owner, key);
    }
  }

  /** The key itself if it is live, else the live key that replaced it by rotation, else null. */
  private async liveKey(tx: EntityManager, keyId: string): Promise<AgentKeyRow | null> {
    const now = new Date().toISOString();
    const seen = new Set<string>();
    for (let key = await tx.findOneBy(AgentKeyEntity, { id: keyId }); key && !seen.has(key.id);) {
      seen.add(key.id);
      if (isKeyActive(key, now) && !key.replaced_by) return key;
      key = key.replaced_by ? await tx.findOneBy(AgentKeyEntity, { id: key.replaced_by }) : null;
    }
    return null;
  }

  private async projectSlug(tx: EntityManager, agent: AgentRow): Promise<string> {
    return (await tx.findOneByOrFail(ProjectEntity, { id: agent.project_id })).slug;
  }
}

const stringOr = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);
