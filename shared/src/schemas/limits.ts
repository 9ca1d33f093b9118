import { Type, type Static } from 'typebox';
import { ConnectionName } from './connections.js';
import { Nullable, NullableTimestamp, StrictObject, Timestamp } from './common.js';

/** Requests allowed per fixed window: `{name: "minute", limit: 60, seconds: 60}`. */
export const LimitWindow = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z0-9_-]+$' }),
  limit: Type.Integer({ minimum: 0, maximum: 1_000_000_000 }),
  seconds: Type.Integer({ minimum: 1, maximum: 366 * 86_400 }),
});
export type LimitWindow = Static<typeof LimitWindow>;

/** Every `interval_seconds`, the remaining uses are set back to `amount`. */
export const LimitRefill = Type.Object({
  amount: Type.Integer({ minimum: 1, maximum: 1_000_000_000 }),
  interval_seconds: Type.Integer({ minimum: 1, maximum: 366 * 86_400 }),
});

export const SetLimitRequest = StrictObject({
  /** Limit one key of the agent instead of the agent as a whole. */
  key_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  /** Limit the agent's use of one connection (its grant) instead. */
  connection: Type.Optional(ConnectionName),
  windows: Type.Optional(Type.Array(LimitWindow, { maxItems: 8 })),
  /** Uses left; null or absent: no count. */
  remaining: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 1_000_000_000 }))),
  refill: Type.Optional(Nullable(LimitRefill)),
  /** After this, every use is refused. */
  expires_at: Type.Optional(NullableTimestamp),
});
export type SetLimitRequest = Static<typeof SetLimitRequest>;

/** A limit and its current use (counters are kept in memory and saved every few seconds). */
export const UsageLimit = Type.Object({
  id: Type.String(),
  agent_id: Type.String(),
  key_id: Nullable(Type.String()),
  connection: Nullable(Type.String()),
  windows: Type.Array(Type.Object({ ...LimitWindow.properties, used: Type.Integer(), resets_at: Timestamp })),
  remaining: Nullable(Type.Integer()),
  refill: Nullable(LimitRefill),
  expires_at: NullableTimestamp,
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type UsageLimit = Static<typeof UsageLimit>;
export const UsageLimitList = Type.Array(UsageLimit);

export const LimitParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128 }),
  limit_id: Type.String({ minLength: 1, maxLength: 64 }),
});
