import { Type, type Static } from 'typebox';
import { Nullable, Timestamp } from './common.js';

/**
 * What the overview counts, each an exact filter of the audit log (so each figure links to the
 * list behind it): `requests` are calls brokered to a connection, `tool_calls` are tool calls
 * through the MCP gateway (`/mcp`), `denials` are any refused action (outcome `failure`),
 * `approvals` are requests for a human's approval.
 */
export const ACTIVITY_EVENT_TYPES = {
  requests: 'connection.called',
  tool_calls: 'mcp.tool_call',
  approvals: 'approval.requested',
} as const;

export const ActivityCounts = Type.Object({
  requests: Type.Integer({ minimum: 0 }),
  denials: Type.Integer({ minimum: 0 }),
  tool_calls: Type.Integer({ minimum: 0 }),
  approvals: Type.Integer({ minimum: 0 }),
});
export type ActivityCounts = Static<typeof ActivityCounts>;
export type ActivityMeasure = keyof ActivityCounts;

export const ActivityBucket = Type.Object({
  ...ActivityCounts.properties,
  start: Timestamp,
});
export type ActivityBucket = Static<typeof ActivityBucket>;

/** One window: its totals and its buckets, oldest first (every bucket present, empty ones at zero). */
export const ActivityWindow = Type.Object({
  since: Timestamp,
  totals: ActivityCounts,
  buckets: Type.Array(ActivityBucket),
});
export type ActivityWindow = Static<typeof ActivityWindow>;

/** The last 24 hours by the hour and the last 7 days by the day (UTC), of a project or one agent. */
export const Activity = Type.Object({
  day: ActivityWindow,
  week: ActivityWindow,
});
export type Activity = Static<typeof Activity>;

export const OverviewKey = Type.Object({
  id: Type.String(),
  agent: Type.String({ description: "The agent's name" }),
  label: Nullable(Type.String()),
  last_four: Type.String(),
  created_at: Timestamp,
  expires_at: Nullable(Timestamp),
});
export type OverviewKey = Static<typeof OverviewKey>;

/** A count and its first few rows (soonest first, or oldest first). */
export const OverviewKeyList = Type.Object({
  total: Type.Integer({ minimum: 0 }),
  items: Type.Array(OverviewKey),
});

export const Overview = Type.Object({
  generated_at: Timestamp,
  agents: Type.Object({
    total: Type.Integer({ minimum: 0 }),
    active: Type.Integer({ minimum: 0 }),
    suspended: Type.Integer({ minimum: 0 }),
    revoked: Type.Integer({ minimum: 0 }),
  }),
  keys: Type.Object({
    expiring_within_days: Type.Integer(),
    expiring_soon: OverviewKeyList,
    never_used: OverviewKeyList,
  }),
  activity: Activity,
  most_refused: Type.Array(
    Type.Object({ agent_id: Type.String(), agent: Type.String(), denials: Type.Integer({ minimum: 1 }) }),
    { description: 'The agents refused most often over the last 7 days, most first' },
  ),
});
export type Overview = Static<typeof Overview>;
