import { Type, type Static, type TObjectOptions, type TProperties, type TSchema } from 'typebox';
import { Format } from 'typebox/format';

/**
 * Characters no name may hold: C0 and C1 controls (NUL and newlines among them), zero-width
 * characters and bidirectional overrides. A NUL ends the string in the keychain's C API (so
 * `victim\u0000x` would be stored as `victim`), and the others make two names look alike.
 */
const unsafeNameCharacter = new RegExp(
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  '[\\u0000-\\u001f\\u007f-\\u009f\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff]',
  'u',
);
export const isSafeName = (text: string): boolean => !unsafeNameCharacter.test(text);

/**
 * The JSON Schema `format` of every name (agents, projects, workflows, users, tools, roles): the
 * daemon's validator answers a failure with the problem `invalid_name`; TypeBox clients check it too.
 */
export const NAME_FORMAT = 'name';
Format.Set(NAME_FORMAT, isSafeName);

/** A name's schema: `options` plus the rule above. */
export const NameString = (options: { minLength: number; maxLength: number; pattern?: string; description?: string }) =>
  Type.String({
    ...options,
    format: NAME_FORMAT,
    description: [options.description, 'No control, zero-width or bidirectional-override characters.']
      .filter(Boolean)
      .join(' '),
  });

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

/**
 * Keyset paging, for lists that grow past where an offset stays fast (it reads every row it
 * skips): the opaque `X-Next-Cursor` of the page before. A page reached by cursor does not move
 * when rows are added or removed before it.
 */
export const Cursor = {
  cursor: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'The page after the one whose `X-Next-Cursor` (or `Link: rel="next"`) this is; not with `offset`.',
    }),
  ),
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
