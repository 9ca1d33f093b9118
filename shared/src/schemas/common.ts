import { Type, type Static, type TObjectOptions, type TProperties, type TSchema } from 'typebox';

/** ISO-8601 UTC timestamp, e.g. `2026-01-10T09:00:00.000Z`. */
export const Timestamp = Type.String({ format: 'date-time' });
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

export const Uuid = Type.String({ format: 'uuid' });

/** A value that may be explicitly `null` (PATCH: null clears, absent leaves unchanged). */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/**
 * Paging for every list route; the total comes back in `X-Total-Count`. Both ends are bounded here,
 * once: an unbounded offset (`1e309` reads as Infinity) would reach SQL as a value SQLite refuses.
 */
export const MAX_OFFSET = 1_000_000_000;
export const Paging = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 20 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_OFFSET, default: 0 })),
};

/** The query of a list route with no filters of its own. */
export const PageQuery = Type.Object(Paging);
export type PageQuery = Static<typeof PageQuery>;

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
export type IdParams = Static<typeof IdParams>;

/** Writes refuse fields they do not know (`additionalProperties: false`). */
export const StrictObject = <P extends TProperties>(properties: P, options?: TObjectOptions) =>
  Type.Object(properties, { additionalProperties: false, ...options });

export const Empty = Type.Null({ description: 'No content' });
