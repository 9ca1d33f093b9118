import { Type, type Static } from 'typebox';
import { Nullable, StrictObject, Timestamp } from './common.js';

/**
 * The audience of an agent token that is good only at the broker (`/proxy/…`): what
 * `gatehouse run --connection` hands a program, useless anywhere else, upstream included.
 */
export const BROKER_AUDIENCE = 'gatehouse-broker';

export const ConnectionName = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[a-z0-9]+(?:[-_][a-z0-9]+)*$',
  description: 'Lowercase letters, digits, - and _; the broker path is /proxy/<name>/…',
});

/** How the broker puts the secret on each upstream request. */
export const Injection = Type.Union([
  Type.Object({
    kind: Type.Literal('header'),
    name: Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" }),
    /** `{secret}` is replaced by the secret: `Bearer {secret}`, `{secret}`. */
    template: Type.String({ minLength: 8, maxLength: 256, pattern: '\\{secret\\}' }),
  }),
  Type.Object({
    kind: Type.Literal('query'),
    name: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.-]+$' }),
  }),
]);
export type Injection = Static<typeof Injection>;

export const HttpMethodName = Type.Union(
  ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].map((method) => Type.Literal(method)),
);

/** `*` matches within one path segment, `**` across segments: `/v1/chat/**`, `/repos/*\/issues`. */
export const PathPattern = Type.String({ minLength: 1, maxLength: 256, pattern: '^/' });

/** A brokered upstream: never its secret. */
export const Connection = Type.Object({
  id: Type.String(),
  project_id: Type.String(),
  name: Type.String(),
  /** The tool name agents and roles are granted: `connection:<name>`. */
  tool: Type.String(),
  base_url: Type.String(),
  injection: Injection,
  /** Empty: every method. */
  allowed_methods: Type.Array(Type.String()),
  /** Empty: every path. */
  allowed_paths: Type.Array(Type.String()),
  description: Nullable(Type.String()),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Connection = Static<typeof Connection>;
export const ConnectionList = Type.Array(Connection);

export const CreateConnectionRequest = StrictObject({
  name: ConnectionName,
  base_url: Type.String({
    minLength: 1,
    maxLength: 2048,
    description: 'https://…, or http:// for a loopback host only',
  }),
  /** Kept in the OS keychain; never shown again. */
  secret: Type.String({ minLength: 1, maxLength: 16_384 }),
  injection: Injection,
  allowed_methods: Type.Optional(Type.Array(HttpMethodName, { maxItems: 7, uniqueItems: true })),
  allowed_paths: Type.Optional(Type.Array(PathPattern, { maxItems: 100, uniqueItems: true })),
  description: Type.Optional(Type.String({ maxLength: 512 })),
});
export type CreateConnectionRequest = Static<typeof CreateConnectionRequest>;

export const ConnectionParams = Type.Object({ connection: ConnectionName });
export type ConnectionParams = Static<typeof ConnectionParams>;
