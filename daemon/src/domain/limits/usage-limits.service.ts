import { v7 as uuidv7 } from 'uuid';
import type { SetLimitRequest, UsageLimit } from '@gatehouse/shared';
import { ProblemError, notFound } from '../../errors.js';
import { AgentKeyEntity } from '../../storage/agent-entities.js';
import { ConnectionEntity } from '../../storage/connection-entities.js';
import type { Database } from '../../storage/database.js';
import type { ProjectRow } from '../../storage/entities.js';
import {
  readUsageCounters,
  readUsageCounts,
  saveUsageCounters,
  UsageLimitEntity,
  type UsageBudget,
  type UsageCounterRow,
  type UsageLimitRow,
} from '../../storage/limit-entities.js';
import { ReadCache } from '../../storage/read-cache.js';
import type { Actor } from '../actor.js';
import type { AgentsService } from '../agents/agents.service.js';
import type { AuditLog } from '../audit/audit-log.js';
import { UsageLeases } from './usage-leases.js';

/**
 * How often counters are saved. Uses counted in the last interval before a crash are lost (a
 * restart may allow up to this long's worth again); a clean shutdown saves everything.
 */
export const COUNTER_FLUSH_MS = 1000;

/** What a call is counted against: the agent, the key it used, the connection it calls. */
export interface LimitSubject {
  agentId: string;
  keyId: string | null;
  connection: string | null;
}

export type LimitDecision =
  | { allowed: true; headers: Record<string, string> | null }
  | { allowed: false; detail: string; headers: Record<string, string> };

/** A budget the call needs a use of, and the refusal when none is left to any replica. */
interface BudgetNeed {
  budget: UsageBudget;
  refuse: () => LimitDecision;
}

interface Counter {
  windows: Map<string, { start: number; used: number }>;
  remaining: number | null;
  refilledAt: number;
}

/**
 * Usage limits (SPEC §11): requests per fixed window (several at once), remaining uses with an
 * optional refill, an expiry. A check is synchronous on counters held in memory — so concurrent
 * callers can never pass a limit between a read and a write — and writes nothing: counters are
 * saved every second (`COUNTER_FLUSH_MS`) outside the read caches' generation, and read back at
 * start-up. Window starts are aligned to the epoch, so a restart resumes the same windows.
 * `check` is what every enforcement point calls (the broker; the MCP gateway later).
 *
 * On PostgreSQL, where several replicas serve one database, each window and each refill period
 * of remaining uses is also a shared budget: a call spends a use of every budget it counts
 * against from a lease this replica holds (`UsageLeases`), and leases more when it holds none,
 * so the replicas together never let more than a limit through. The counters in memory then
 * only answer what this replica has seen; the shared rows are what `list` shows.
 */
export class UsageLimitsService {
  private readonly limitsOf: ReadCache<readonly UsageLimitRow[]>;
  private readonly counters = new Map<string, Counter>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private readonly leases: UsageLeases | null;

  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly agents: AgentsService,
    private readonly onError: (error: unknown) => void,
  ) {
    this.limitsOf = new ReadCache(db);
    this.leases = db.driver === 'postgres' ? new UsageLeases(db) : null;
  }

  async start(): Promise<void> {
    for (const row of await readUsageCounters(this.db.manager))
      this.counters.set(row.limit_id, {
        windows: new Map(Object.entries(row.windows)),
        remaining: row.remaining,
        refilledAt: row.refilled_at,
      });
    this.timer = setInterval(() => void this.flush(), COUNTER_FLUSH_MS);
    this.timer.unref();
  }

  /** Counts one use against every limit that applies, or refuses without counting any. */
  async check(subject: LimitSubject, now = Date.now()): Promise<LimitDecision> {
    const all = await this.limitsOf.get(subject.agentId, () => this.readLimits(subject.agentId));
    if (all.length === 0) return { allowed: true, headers: null };
    const applying = all.filter(
      (limit) =>
        (limit.key_id === null || limit.key_id === subject.keyId) &&
        (limit.connection === null || limit.connection === subject.connection),
    );
    for (;;) {
      const decision = this.decide(applying, now);
      if ('allowed' in decision) return decision;
      // Budgets this replica holds no use of: lease more, then decide again (callers waiting on
      // one lease may have spent it). None left to lease: refused.
      const granted = await Promise.all(decision.lease.map((need) => this.leases!.lease(need.budget)));
      const exhausted = decision.lease.find((_, i) => granted[i] === 0);
      if (exhausted) return exhausted.refuse();
    }
  }

  /**
   * Counts one use against every limit in `applying`, or refuses without counting any; or names
   * the shared budgets to lease first. Synchronous: no other call runs between the checks and
   * the counting.
   */
  private decide(applying: UsageLimitRow[], now: number): LimitDecision | { lease: BudgetNeed[] } {
    // What each window will have left after this call: counted here, or (shared) as far as this replica knows.
    const lefts: Array<{ name: string; reset: number; left: () => number }> = [];
    const policies: string[] = [];
    const needs: BudgetNeed[] = [];
    for (const limit of applying) {
      const counter = this.counterOf(limit, now);
      if (limit.expires_at !== null && Date.parse(limit.expires_at) <= now)
        return refusal(`The ${describe(limit)} expired at ${limit.expires_at}.`, null, policies);
      if (counter.remaining !== null) {
        const reset = limit.refill ? counter.refilledAt + limit.refill.interval_seconds * 1000 - now : null;
        const noneLeft = () => refusal(`The ${describe(limit)} has no uses left.`, reset, [...policies]);
        if (this.leases) needs.push({ budget: remainingBudget(limit, now), refuse: noneLeft });
        else if (counter.remaining <= 0) return noneLeft();
      }
      for (const window of limit.windows) {
        const state = windowState(counter, window, now);
        const reset = state.start + window.seconds * 1000 - now;
        policies.push(`"${window.name}";q=${window.limit};w=${window.seconds}`);
        const full = (policiesSoFar: string[]) =>
          refusal(
            `The ${describe(limit)} allows ${window.limit} requests per ${window.seconds} s ("${window.name}").`,
            reset,
            policiesSoFar,
            `"${window.name}";r=0;t=${Math.ceil(reset / 1000)}`,
          );
        if (state.used >= window.limit) return full(policies);
        if (this.leases) {
          const leases = this.leases;
          const policiesSoFar = [...policies];
          const budget = windowBudget(limit, window.name, state.start, window.limit);
          needs.push({ budget, refuse: () => full(policiesSoFar) });
          lefts.push({ name: window.name, reset, left: () => leases.leftOf(budget) });
        } else lefts.push({ name: window.name, reset, left: () => window.limit - state.used });
      }
    }
    if (this.leases) {
      const missing = needs.filter((need) => !this.leases!.has(need.budget));
      if (missing.length > 0) return { lease: missing };
      for (const need of needs) this.leases.spend(need.budget);
    }
    for (const limit of applying) {
      const counter = this.counters.get(limit.id)!;
      for (const window of limit.windows) windowState(counter, window, now).used++;
      if (counter.remaining !== null) counter.remaining--;
      this.dirty.add(limit.id);
    }
    if (lefts.length === 0) return { allowed: true, headers: null };
    const tightest = lefts
      .map((window) => ({ ...window, left: window.left() }))
      .reduce((a, b) => (b.left < a.left ? b : a));
    return {
      allowed: true,
      headers: {
        'RateLimit-Policy': policies.join(', '),
        RateLimit: `"${tightest.name}";r=${tightest.left};t=${Math.ceil(tightest.reset / 1000)}`,
      },
    };
  }

  async list(project: ProjectRow, agentName: string): Promise<UsageLimit[]> {
    const agent = await this.agents.find(project.id, agentName);
    const now = Date.now();
    const limits = await this.readLimits(agent.id);
    if (!this.leases) return limits.map((limit) => this.toUsageLimit(limit, now));
    return Promise.all(
      limits.map(async (limit) => this.sharedUsage(limit, await readUsageCounts(this.db.manager, limit.id), now)),
    );
  }

  /** Sets (or replaces) the limit of one subject; its counters start afresh. */
  async set(project: ProjectRow, agentName: string, input: SetLimitRequest, actor: Actor): Promise<UsageLimit> {
    const row = await this.db.write(async (tx) => {
      const agent = await this.agents.find(project.id, agentName, tx);
      if (input.key_id && !(await tx.exists(AgentKeyEntity, { where: { id: input.key_id, agent_id: agent.id } })))
        throw notFound(`Key "${input.key_id}" of agent "${agent.name}"`);
      if (
        input.connection &&
        !(await tx.exists(ConnectionEntity, { where: { project_id: project.id, name: input.connection } }))
      )
        throw notFound(`Connection "${input.connection}"`);
      const names = (input.windows ?? []).map((window) => window.name);
      if (new Set(names).size !== names.length)
        throw new ProblemError('validation_failed', 'The request is not valid: body.windows names must differ.', {
          errors: [{ location: 'body.windows', message: 'names must differ' }],
        });
      const existing = await tx.findOneBy(UsageLimitEntity, {
        agent_id: agent.id,
        key_id: (input.key_id ?? null) as string,
        connection: (input.connection ?? null) as string,
      });
      const now = new Date().toISOString();
      const next: UsageLimitRow = {
        id: existing?.id ?? uuidv7(),
        project_id: project.id,
        agent_id: agent.id,
        key_id: input.key_id ?? null,
        connection: input.connection ?? null,
        windows: input.windows ?? [],
        remaining: input.remaining ?? null,
        refill: input.refill ?? null,
        expires_at: input.expires_at ?? null,
        created_at: existing?.created_at ?? now,
        updated_at: now,
      };
      await tx.save(UsageLimitEntity, next);
      await tx.query('DELETE FROM usage_counters WHERE limit_id = ?', [next.id]);
      await tx.query('DELETE FROM usage_counts WHERE limit_id = ?', [next.id]);
      await this.audit.append(tx, {
        event_type: 'agent.limit_set',
        actor,
        agent_id: agent.id,
        project_id: project.id,
        target: `agent:${agent.name}`,
        metadata: {
          limit_id: next.id,
          key_id: next.key_id,
          connection: next.connection,
          windows: next.windows,
          remaining: next.remaining,
          refill: next.refill,
          expires_at: next.expires_at,
        },
      });
      return next;
    });
    this.counters.delete(row.id);
    this.dirty.delete(row.id);
    return this.toUsageLimit(row, Date.now());
  }

  async delete(project: ProjectRow, agentName: string, limitId: string, actor: Actor): Promise<UsageLimit> {
    const row = await this.db.write(async (tx) => {
      const agent = await this.agents.find(project.id, agentName, tx);
      const found = await tx.findOneBy(UsageLimitEntity, { id: limitId, agent_id: agent.id });
      if (!found) throw notFound(`Limit "${limitId}" of agent "${agent.name}"`);
      await tx.delete(UsageLimitEntity, { id: limitId });
      await this.audit.append(tx, {
        event_type: 'agent.limit_removed',
        actor,
        agent_id: agent.id,
        project_id: project.id,
        target: `agent:${agent.name}`,
        metadata: { limit_id: limitId },
      });
      return found;
    });
    const result = this.toUsageLimit(row, Date.now());
    this.counters.delete(limitId);
    this.dirty.delete(limitId);
    return result;
  }

  /** Saves the counters changed since the last save. Never rejects (failures go to `onError`). */
  async flush(): Promise<void> {
    // On PostgreSQL the shared rows are the counts: what is saved is the unspent leases, given back.
    if (this.leases) return this.leases.settle().catch((error: unknown) => this.onError(error));
    if (this.dirty.size === 0) return;
    const rows: UsageCounterRow[] = [];
    for (const id of this.dirty) {
      const counter = this.counters.get(id);
      if (counter)
        rows.push({
          limit_id: id,
          windows: Object.fromEntries(counter.windows),
          remaining: counter.remaining,
          refilled_at: counter.refilledAt,
        });
    }
    this.dirty.clear();
    await this.db
      .writeUncached((tx) => saveUsageCounters(tx, rows, new Date().toISOString()))
      .catch((error: unknown) => this.onError(error));
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  private readLimits(agentId: string): Promise<UsageLimitRow[]> {
    return this.db.manager.find(UsageLimitEntity, { where: { agent_id: agentId }, order: { created_at: 'ASC' } });
  }

  /** The limit's counter, its remaining uses refilled if a refill interval has passed. */
  private counterOf(limit: UsageLimitRow, now: number): Counter {
    let counter = this.counters.get(limit.id);
    if (!counter) {
      counter = { windows: new Map(), remaining: limit.remaining, refilledAt: Date.parse(limit.updated_at) };
      this.counters.set(limit.id, counter);
    }
    if (limit.refill && counter.remaining !== null) {
      const interval = limit.refill.interval_seconds * 1000;
      const periods = Math.floor((now - counter.refilledAt) / interval);
      if (periods > 0) {
        counter.remaining = limit.refill.amount;
        counter.refilledAt += periods * interval;
        this.dirty.add(limit.id);
      }
    }
    return counter;
  }

  /**
   * `limit` as every replica has used it: the uses leased of its shared budgets, less what this
   * replica leased and has not spent (another replica's unspent share counts until it gives it
   * back, within a second).
   */
  private sharedUsage(
    limit: UsageLimitRow,
    counts: Array<{ budget: string; period: number; used: number }>,
    now: number,
  ): UsageLimit {
    const used = (budget: UsageBudget) =>
      (counts.find((count) => count.budget === budget.budget && count.period === budget.period)?.used ?? 0) -
      this.leases!.unspent(budget);
    const remaining = limit.remaining === null ? null : remainingBudget(limit, now);
    return {
      ...this.toUsageLimit(limit, now),
      windows: limit.windows.map((window) => {
        const length = window.seconds * 1000;
        const start = Math.floor(now / length) * length;
        return {
          ...window,
          used: used(windowBudget(limit, window.name, start, window.limit)),
          resets_at: new Date(start + length).toISOString(),
        };
      }),
      remaining: remaining && remaining.cap - used(remaining),
    };
  }

  private toUsageLimit(limit: UsageLimitRow, now: number): UsageLimit {
    const counter = this.counterOf(limit, now);
    return {
      id: limit.id,
      agent_id: limit.agent_id,
      key_id: limit.key_id,
      connection: limit.connection,
      windows: limit.windows.map((window) => {
        const state = windowState(counter, window, now);
        return { ...window, used: state.used, resets_at: new Date(state.start + window.seconds * 1000).toISOString() };
      }),
      remaining: counter.remaining,
      refill: limit.refill,
      expires_at: limit.expires_at,
      created_at: limit.created_at,
      updated_at: limit.updated_at,
    };
  }
}

/** The remaining uses of `limit` in the refill period of `now`, as one shared budget. */
function remainingBudget(limit: UsageLimitRow, now: number): UsageBudget {
  const base = Date.parse(limit.updated_at);
  const interval = limit.refill ? limit.refill.interval_seconds * 1000 : 0;
  const periods = interval > 0 ? Math.max(0, Math.floor((now - base) / interval)) : 0;
  return {
    limitId: limit.id,
    budget: `${limit.updated_at} remaining`,
    period: base + periods * interval,
    cap: periods > 0 ? limit.refill!.amount : (limit.remaining ?? 0),
  };
}

const windowBudget = (limit: UsageLimitRow, name: string, start: number, cap: number): UsageBudget => ({
  limitId: limit.id,
  budget: `${limit.updated_at} window ${name}`,
  period: start,
  cap,
});

/** The window's current state: a new window (aligned to the epoch) starts at zero. */
function windowState(counter: Counter, window: { name: string; seconds: number }, now: number) {
  const length = window.seconds * 1000;
  const start = Math.floor(now / length) * length;
  let state = counter.windows.get(window.name);
  if (!state || state.start !== start) {
    state = { start, used: 0 };
    counter.windows.set(window.name, state);
  }
  return state;
}

const describe = (limit: UsageLimitRow) =>
  limit.key_id
    ? `limit of key ${limit.key_id}`
    : limit.connection
      ? `limit on connection "${limit.connection}"`
      : "agent's limit";

function refusal(detail: string, resetMs: number | null, policies: string[], rateLimit?: string): LimitDecision {
  const headers: Record<string, string> = {};
  if (resetMs !== null) headers['Retry-After'] = String(Math.max(1, Math.ceil(resetMs / 1000)));
  if (policies.length > 0) headers['RateLimit-Policy'] = policies.join(', ');
  if (rateLimit) headers.RateLimit = rateLimit;
  return { allowed: false, detail, headers };
}
