import { randomUUID } from 'node:crypto';
import type {
  ApprovalListQuery,
  ApprovalRequest,
  ApprovalStatus,
  CreateApprovalRequest,
} from '../../../../shared/src/index.js';
import { conflict, forbidden, notFound } from '../../errors.js';
import { AgentEntity, type AgentRow } from '../../storage/agent-entities.js';
import type { Database } from '../../storage/database.js';
import { ApprovalEntity, type ApprovalRow } from '../../storage/permission-entities.js';
import type { Actor } from '../actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { PermissionsService } from './permissions.service.js';

const DEFAULT_EXPIRY_SECONDS = 15 * 60;

/** A pending request past its expiry is expired, whether or not that was written yet. */
const statusAt = (row: ApprovalRow, now: string): ApprovalStatus =>
  row.status === 'pending' && row.expires_at <= now ? 'expired' : row.status;

/**
 * Approvals (SPEC §5): an agent asks before each use of an approval-required tool; a project
 * admin approves or denies; an unanswered request expires (15 minutes by default).
 */
export class ApprovalsService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly permissions: PermissionsService,
  ) {}

  /** Creates the request, or returns the one made earlier with the same idempotency key. */
  async request(agent: AgentRow, input: CreateApprovalRequest, tokenTools: string[] | null, actor: Actor) {
    const verdict = await this.permissions.authorize(agent, input.tool, tokenTools);
    if (verdict.reason === 'unknown_tool' || verdict.reason === 'not_granted')
      throw forbidden(
        `The agent may not use "${input.tool}" at all (${verdict.reason}); an approval cannot change that.`,
      );
    return this.db.write(async (tx) => {
      const earlier = await tx.findOneBy(ApprovalEntity, {
        agent_id: agent.id,
        idempotency_key: input.idempotency_key,
      });
      if (earlier) {
        if (earlier.tool !== input.tool || earlier.summary !== input.summary)
          throw conflict('This idempotency_key was used for a different request.');
        return this.present(earlier, agent.name);
      }
      const now = new Date();
      const row: ApprovalRow = {
        id: randomUUID(),
        agent_id: agent.id,
        project_id: agent.project_id,
        tool: input.tool,
        summary: input.summary,
        idempotency_key: input.idempotency_key,
        status: 'pending',
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + (input.expires_in_seconds ?? DEFAULT_EXPIRY_SECONDS) * 1000).toISOString(),
        decided_by: null,
        decided_at: null,
        decision_note: null,
      };
      await tx.insert(ApprovalEntity, row);
      await this.audit.append(tx, {
        event_type: 'approval.requested',
        actor,
        agent_id: agent.id,
        project_id: agent.project_id,
        target: `approval:${row.id}`,
        metadata: { tool: row.tool, expires_at: row.expires_at },
      });
      return this.present(row, agent.name);
    });
  }

  async get(id: string, projectId: string): Promise<ApprovalRequest> {
    const row = await this.db.manager.findOneBy(ApprovalEntity, { id, project_id: projectId });
    if (!row) throw notFound('Approval request');
    return this.present(row);
  }

  async list(projectId: string, query: ApprovalListQuery): Promise<{ items: ApprovalRequest[]; total: number }> {
    const now = new Date().toISOString();
    const q = this.db.manager.createQueryBuilder(ApprovalEntity, 'a').where('a.project_id = :projectId', { projectId });
    if (query.status === 'pending') q.andWhere("a.status = 'pending' AND a.expires_at > :now", { now });
    else if (query.status === 'expired')
      q.andWhere("(a.status = 'expired' OR (a.status = 'pending' AND a.expires_at <= :now))", { now });
    else if (query.status) q.andWhere('a.status = :status', { status: query.status });
    const [rows, total] = await q
      .orderBy('a.created_at', 'DESC')
      .skip(query.offset ?? 0)
      .take(query.limit ?? 20)
      .getManyAndCount();
    const names = await this.agentNames(rows.map((row) => row.agent_id));
    return { items: rows.map((row) => this.toApproval(row, names.get(row.agent_id) ?? '', now)), total };
  }

  /** Approves or denies a pending request; 409 once it is decided or expired. */
  async decide(
    id: string,
    projectId: string,
    decision: 'approved' | 'denied',
    note: string | undefined,
    actor: Actor,
  ): Promise<ApprovalRequest> {
    return this.db.write(async (tx) => {
      const row = await tx.findOneBy(ApprovalEntity, { id, project_id: projectId });
      if (!row) throw notFound('Approval request');
      const now = new Date().toISOString();
      const status = statusAt(row, now);
      if (status !== 'pending') {
        if (status === 'expired' && row.status === 'pending')
          await tx.update(ApprovalEntity, { id }, { status: 'expired' });
        throw conflict(`This request is already ${status}.`);
      }
      const decided: ApprovalRow = {
        ...row,
        status: decision,
        decided_by: actor.label,
        decided_at: now,
        decision_note: note ?? null,
      };
      await tx.save(ApprovalEntity, decided);
      await this.audit.append(tx, {
        event_type: `approval.${decision}`,
        actor,
        agent_id: row.agent_id,
        project_id: projectId,
        target: `approval:${id}`,
        metadata: { tool: row.tool },
      });
      return this.present(decided);
    });
  }

  private async present(row: ApprovalRow, agentName?: string): Promise<ApprovalRequest> {
    const name = agentName ?? (await this.agentNames([row.agent_id])).get(row.agent_id) ?? '';
    return this.toApproval(row, name, new Date().toISOString());
  }

  private toApproval(row: ApprovalRow, agentName: string, now: string): ApprovalRequest {
    return { ...row, status: statusAt(row, now), agent_name: agentName };
  }

  private async agentNames(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const agents = await this.db.manager
      .createQueryBuilder(AgentEntity, 'a')
      .select(['a.id', 'a.name'])
      .whereInIds([...new Set(ids)])
      .getMany();
    return new Map(agents.map((agent) => [agent.id, agent.name]));
  }
}
