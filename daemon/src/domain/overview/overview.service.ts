import type { Activity, ActivityBucket, ActivityCounts, ActivityWindow, Overview } from '@gatehouse/shared';
import type { Database } from '../../storage/database.js';
import {
  activityByHour,
  agentCountsByStatus,
  keysNeedingAttention,
  mostRefusedAgents,
  type ActivityRow,
} from '../../storage/overview-queries.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** A key expiring within this many days is listed as expiring soon. */
export const KEY_EXPIRY_WARNING_DAYS = 7;
/** Rows listed under each figure; the figure itself counts them all. */
const LISTED = 5;

const zero = (): ActivityCounts => ({ requests: 0, denials: 0, tool_calls: 0, approvals: 0 });
const add = (into: ActivityCounts, row: ActivityCounts) => {
  into.requests += row.requests;
  into.denials += row.denials;
  into.tool_calls += row.tool_calls;
  into.approvals += row.approvals;
};

/**
 * The windows the overview shows, in UTC: the last 24 hours by the hour (the current hour
 * included) and the last 7 days by the day (today included).
 */
export function activityWindows(now: Date): { dayStarts: Date[]; weekStarts: Date[] } {
  const hour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  const day = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  return {
    dayStarts: Array.from({ length: 24 }, (_, i) => new Date(hour - (23 - i) * HOUR_MS)),
    weekStarts: Array.from({ length: 7 }, (_, i) => new Date(day - (6 - i) * DAY_MS)),
  };
}

/** Sums hourly rows into the given buckets (each from its start to the next one's). */
function windowOf(starts: Date[], rows: ActivityRow[], keyLength: number): ActivityWindow {
  const byKey = new Map<string, ActivityCounts>();
  for (const row of rows) {
    const key = row.hour.slice(0, keyLength);
    const counts = byKey.get(key) ?? zero();
    add(counts, row);
    byKey.set(key, counts);
  }
  const totals = zero();
  const buckets: ActivityBucket[] = starts.map((start) => {
    const counts = byKey.get(start.toISOString().slice(0, keyLength)) ?? zero();
    add(totals, counts);
    return { start: start.toISOString(), ...counts };
  });
  return { since: starts[0]!.toISOString(), totals, buckets };
}

/** The overview of a project and the activity of one agent, read from the audit chain and the agent tables. */
export class OverviewService {
  constructor(
    private readonly db: Database,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async activity(scope: { projectId: string; agentId?: string }, now = this.clock()): Promise<Activity> {
    const { dayStarts, weekStarts } = activityWindows(now);
    // One pass over the week, by the hour; the day's window is the last 24 of those hours.
    const rows = await activityByHour(this.db.manager, scope, weekStarts[0]!);
    const dayFrom = dayStarts[0]!.toISOString().slice(0, 13);
    return {
      day: windowOf(
        dayStarts,
        rows.filter((row) => row.hour >= dayFrom),
        13,
      ),
      week: windowOf(weekStarts, rows, 10),
    };
  }

  async overview(projectId: string): Promise<Overview> {
    const now = this.clock();
    const manager = this.db.manager;
    const activity = await this.activity({ projectId }, now);
    const [statuses, expiringSoon, neverUsed, mostRefused] = await Promise.all([
      agentCountsByStatus(manager, projectId),
      keysNeedingAttention(
        manager,
        projectId,
        { expiringBetween: [now, new Date(now.getTime() + KEY_EXPIRY_WARNING_DAYS * DAY_MS)] },
        LISTED,
      ),
      keysNeedingAttention(manager, projectId, { neverUsedAt: now }, LISTED),
      mostRefusedAgents(manager, this.db.driver, projectId, new Date(activity.week.since), LISTED),
    ]);
    const active = statuses.get('active') ?? 0;
    const suspended = statuses.get('suspended') ?? 0;
    const revoked = statuses.get('revoked') ?? 0;
    return {
      generated_at: now.toISOString(),
      agents: { total: active + suspended + revoked, active, suspended, revoked },
      keys: { expiring_within_days: KEY_EXPIRY_WARNING_DAYS, expiring_soon: expiringSoon, never_used: neverUsed },
      activity,
      most_refused: mostRefused,
    };
  }
}
