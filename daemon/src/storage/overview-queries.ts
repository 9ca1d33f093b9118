import { In } from 'typeorm';
import type { Driver, ReadManager } from './database.js';
import { ACTIVITY_EVENT_TYPES } from '@gatehouse/shared';
import { AgentEntity, AgentKeyEntity } from './agent-entities.js';
import { AuditEventEntity } from './entities.js';

/*
 * The overview's aggregates, each an indexed query whose cost is bounded by the window it reads
 * (the last week of one project's or one agent's audit events) or by the rows it returns, never
 * by the size of the whole audit chain.
 */

export interface ActivityRow {
  /** `YYYY-MM-DDTHH` (UTC): the hour the events fall in. */
  hour: string;
  requests: number;
  denials: number;
  tool_calls: number;
  approvals: number;
}

/**
 * Audit events are appended in time order, except that a batch of brokered calls may carry
 * times up to a flush interval older than an event appended before it: the first sequence
 * number is looked up this much earlier, and the time itself is then checked row by row.
 */
const APPEND_ORDER_SLACK_MS = 60_000;

/**
 * The chain's sequence numbers follow time: seeking the first one through the `at` index lets a
 * count read the project's (or agent's) index from there on, not the whole chain.
 */
async function firstSequenceAfter(manager: ReadManager, since: Date): Promise<number | null> {
  const first = await manager
    .createQueryBuilder(AuditEventEntity, 'e')
    .select('e.sequence_number', 'sequence')
    .where('e.at > :from', { from: new Date(since.getTime() - APPEND_ORDER_SLACK_MS).toISOString() })
    .orderBy('e.at', 'ASC')
    .limit(1)
    .getRawOne<{ sequence: number }>();
  return first ? Number(first.sequence) : null;
}

/** Counts per UTC hour of the events after `since`, of a project or (with `agentId`) one agent. */
export async function activityByHour(
  manager: ReadManager,
  scope: { projectId: string; agentId?: string },
  since: Date,
): Promise<ActivityRow[]> {
  const first = await firstSequenceAfter(manager, since);
  if (first === null) return [];
  const q = manager
    .createQueryBuilder(AuditEventEntity, 'e')
    .select('substr(e.at, 1, 13)', 'hour')
    .addSelect('sum(CASE WHEN e.event_type = :requests THEN 1 ELSE 0 END)', 'requests')
    .addSelect("sum(CASE WHEN e.outcome = 'failure' THEN 1 ELSE 0 END)", 'denials')
    .addSelect('sum(CASE WHEN e.event_type = :toolCalls THEN 1 ELSE 0 END)', 'tool_calls')
    .addSelect('sum(CASE WHEN e.event_type = :approvals THEN 1 ELSE 0 END)', 'approvals')
    .setParameters({
      requests: ACTIVITY_EVENT_TYPES.requests,
      toolCalls: ACTIVITY_EVENT_TYPES.tool_calls,
      approvals: ACTIVITY_EVENT_TYPES.approvals,
    });
  q.where('e.project_id = :project', { project: scope.projectId });
  // Either index (the project's or the agent's) is read from the first sequence number on.
  if (scope.agentId) q.andWhere('e.agent_id = :agent', { agent: scope.agentId });
  const rows = await q
    .andWhere('e.sequence_number >= :first', { first })
    .andWhere('e.at > :since', { since: since.toISOString() })
    .groupBy('hour')
    .getRawMany<Record<keyof ActivityRow, string | number>>();
  return rows.map((row) => ({
    hour: String(row.hour),
    requests: Number(row.requests),
    denials: Number(row.denials),
    tool_calls: Number(row.tool_calls),
    approvals: Number(row.approvals),
  }));
}

/**
 * The agents of a project refused most often since `since`, most first (one pass over that
 * window's refusals). Grouped by id alone, their names read for the few kept: joining the agents inside the
 * pass cost a lookup per refusal (2.8× slower on bench B12's database, 25,000 refusals a week). An agent
 * deleted since is left out.
 */
export async function mostRefusedAgents(
  manager: ReadManager,
  driver: Driver,
  projectId: string,
  since: Date,
  limit: number,
): Promise<Array<{ agent_id: string; agent: string; denials: number }>> {
  const first = await firstSequenceAfter(manager, since);
  if (first === null) return [];
  // INDEXED BY (SQLite): the project's activity index answers this too and ties with the refusals'
  // in its planner's eyes, but holds ten times the entries (bench B12: 112 vs 12 ms). PostgreSQL's
  // planner weighs the partial index by its statistics and has no such hint.
  const indexed = driver === 'sqlite' ? 'INDEXED BY audit_events_refusals' : '';
  const counts: Array<{ agent_id: string; denials: number }> = await manager.query(
    `SELECT agent_id, count(*) AS denials FROM audit_events ${indexed}
     WHERE project_id = ? AND sequence_number >= ? AND at > ? AND outcome = 'failure' AND agent_id IS NOT NULL
     GROUP BY agent_id ORDER BY denials DESC, agent_id ASC LIMIT ?`,
    [projectId, first, since.toISOString(), limit],
  );
  if (counts.length === 0) return [];
  const names = new Map(
    (
      await manager.find(AgentEntity, {
        select: { id: true, name: true },
        where: { id: In(counts.map((row) => row.agent_id)) },
      })
    ).map((agent) => [agent.id, agent.name]),
  );
  return counts
    .filter((row) => names.has(row.agent_id))
    .map((row) => ({ agent_id: row.agent_id, agent: names.get(row.agent_id)!, denials: Number(row.denials) }))
    .sort((a, b) => b.denials - a.denials || a.agent.localeCompare(b.agent));
}

export async function agentCountsByStatus(manager: ReadManager, projectId: string): Promise<Map<string, number>> {
  const rows = await manager
    .createQueryBuilder(AgentEntity, 'a')
    .select('a.status', 'status')
    .addSelect('count(*)', 'n')
    .where('a.project_id = :project', { project: projectId })
    .groupBy('a.status')
    .getRawMany<{ status: string; n: string | number }>();
  return new Map(rows.map((row) => [row.status, Number(row.n)]));
}

export interface KeyNeedingAttention {
  id: string;
  agent: string;
  label: string | null;
  last_four: string;
  created_at: string;
  expires_at: string | null;
}

/**
 * Live keys of a project's agents that match `which`: the first `limit` of them and how many in
 * all (one query: the count is a window over the same rows).
 */
export async function keysNeedingAttention(
  manager: ReadManager,
  projectId: string,
  which: { expiringBetween: [Date, Date] } | { neverUsedAt: Date },
  limit: number,
): Promise<{ total: number; items: KeyNeedingAttention[] }> {
  const q = manager
    .createQueryBuilder(AgentKeyEntity, 'k')
    .innerJoin(AgentEntity.options.name, 'a', 'a.id = k.agent_id')
    .select(['k.id AS id', 'a.name AS agent', 'k.label AS label', 'k.last_four AS last_four'])
    .addSelect(['k.created_at AS created_at', 'k.expires_at AS expires_at', 'count(*) OVER () AS total'])
    // `|| ''` keeps the planner off the agents' project index: reading the live keys from their
    // partial index (`agent_keys_live_by_expiry` or `agent_keys_never_used`) and their agent by id
    // is faster than each agent's keys by index (on bench B12's database). The keys of other
    // projects' agents are read too, which a desktop daemon has few of.
    .where("a.project_id || '' = :project", { project: projectId })
    .andWhere("a.status <> 'revoked'")
    .andWhere('k.revoked_at IS NULL');
  if ('expiringBetween' in which) {
    const [from, to] = which.expiringBetween;
    q.andWhere('k.expires_at > :from AND k.expires_at <= :to', { from: from.toISOString(), to: to.toISOString() });
    q.orderBy('k.expires_at', 'ASC');
  } else {
    q.andWhere('k.last_used_at IS NULL')
      .andWhere('(k.expires_at IS NULL OR k.expires_at > :now)', { now: which.neverUsedAt.toISOString() })
      .orderBy('k.created_at', 'ASC');
  }
  const rows = await q.addOrderBy('k.id', 'ASC').limit(limit).getRawMany<KeyNeedingAttention & { total: number }>();
  return {
    total: rows.length > 0 ? Number(rows[0]!.total) : 0,
    items: rows.map(({ total: _total, ...key }) => key),
  };
}
