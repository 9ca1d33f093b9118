import { randomUUID } from 'node:crypto';
import type { ApprovalListQuery, ApprovalRequest, ApprovalStatus, CreateApprovalRequest } from '@gatehouse/shared';
import { conflict, forbidden, notFound } from '../../errors.js';
import { AgentEntity, type AgentRow } from '../../storage/agent-entities.js';
import type { Database } from '../../storage/database.js';
import { ApprovalEntity, type ApprovalRow } from '../../storage/permission-entities.js';
import { systemActor, type Actor } from '../actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { PermissionsService } from './permissions.service.js';

const DEFAULT_EXPIRY_SECONDS = 15 * 60;
/** When writing expiries failed (the database busy or full), the next try. */
const EXPIRY_RETRY_MS = 5000;

/** A pending request past its expiry is expired, whether or not that was written yet. */
const statusAt = (row: ApprovalRow, now: string): ApprovalStatus =>
  row.status === 'pending' && row.expires_at <= now ? 'expired' : row.status;

/**
 * Approvals (SPEC §5): an agent asks before each use of an approval-required tool; a project
 * admin approves or denies; an unanswered request expires (15 minutes by default). Expiring is
 * written as it happens (`approval.expired`, audited and sent to the console's event stream), so
 * the inbox and the desktop app's pending count learn of it without asking.
 */
export class ApprovalsService {
  /** The next expiry to write, set for the earliest pending request. */
  #expiryTimer: NodeJS.Timeout | undefined;
  #expiryAt = Infinity;
  #stopped = false;

  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly permissions: PermissionsService,
  ) {}

  /** Writes what expired while the daemon was not running, and watches for the next expiry. */
  async start(): Promise<void> {
    await this.expireDue();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#expiryTimer);
  }

  /** Marks pending requests past their expiry as expired, one audit event each; then waits for the next. */
  private async expireDue(): Promise<void> {
    this.#expiryAt = Infinity;
    const next = await this.db.write(async (tx) => {
      const now = new Date().toISOString();
      const due = await tx
        .createQueryBuilder(ApprovalEntity, 'a')
        .where("a.status = 'pending' AND a.expires_at <= :now", { now })
        .getMany();
      for (const row of due) {
        await tx.update(ApprovalEntity, { id: row.id }, { status: 'expired' });
        await this.audit.append(tx, {
          event_type: 'approval.expired',
          actor: systemActor,
          agent_id: row.agent_id,
          project_id: row.project_id,
          target: `approval:${row.id}`,
          metadata: { tool: row.tool, expires_at: row.expires_at },
        });
      }
      const pending = await tx
        .createQueryBuilder(ApprovalEntity, 'a')
        .select('MIN(a.expires_at)', 'next')
        .where("a.status = 'pending'")
        .getRawOne<{ next: string | null }>();
      return pending?.next ?? null;
    });
    if (next) this.watchExpiry(next);
  }

  /** Wakes at `expiresAt` unless an earlier wake-up is set already. */
  private watchExpiry(expiresAt: string): void {
    const at = Date.parse(expiresAt);
    if (at < this.#expiryAt) this.wakeAt(at);
  }

  private wakeAt(at: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#expiryTimer);
    this.#expiryAt = at;
    // Timers hold at most ~24.8 days; a later expiry is looked at again then.
    const delay = Math.min(Math.max(at - Date.now(), 0), 2 ** 31 - 1);
    const expire = () => void this.expireDue().catch(() => this.wakeAt(Date.now() + EXPIRY_RETRY_MS));
    this.#expiryTimer = setTimeout(expire, delay);
    this.#expiryTimer.unref(); // never what keeps the daemon running
  }

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
      this.watchExpiry(row.expires_at);
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
      // An expired one that is still 'pending' in its row is written by the expiry watch.
      if (status !== 'pending') throw conflict(`This request is already ${status}.`);
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
