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

const EndpointUrl = Type.String({ minLength: 1, maxLength: 2048 });

/** An OAuth connection: the provider's endpoints and this client (authorization code + PKCE). */
export const OAuthSettings = Type.Object({
  authorization_url: EndpointUrl,
  token_url: EndpointUrl,
  revocation_url: Nullable(EndpointUrl),
  client_id: Type.String({ minLength: 1, maxLength: 512 }),
  scopes: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 50 }),
});
export type OAuthSettings = Static<typeof OAuthSettings>;

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
  /** Set for an OAuth connection: its access token is injected as `{secret}`. */
  oauth: Nullable(
    Type.Object({
      ...OAuthSettings.properties,
      /** When an account was last connected; null until the admin connects one (or after a revoke). */
      connected_at: Nullable(Timestamp),
    }),
  ),
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
  /** Kept in the OS keychain; never shown again. Required unless `oauth` is given. */
  secret: Type.Optional(Type.String({ minLength: 1, maxLength: 16_384 })),
  /** An OAuth connection instead of a fixed secret; connect an account afterwards (`…/oauth/start`). */
  oauth: Type.Optional(
    StrictObject({
      authorization_url: EndpointUrl,
      token_url: EndpointUrl,
      revocation_url: Type.Optional(EndpointUrl),
      client_id: Type.String({ minLength: 1, maxLength: 512 }),
      /** Kept in the OS keychain, as the secret is. */
      client_secret: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
      scopes: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 50 })),
    }),
  ),
  injection: Injection,
  allowed_methods: Type.Optional(Type.Array(HttpMethodName, { maxItems: 7, uniqueItems: true })),
  allowed_paths: Type.Optional(Type.Array(PathPattern, { maxItems: 100, uniqueItems: true })),
  description: Type.Optional(Type.String({ maxLength: 512 })),
});
export type CreateConnectionRequest = Static<typeof CreateConnectionRequest>;

export const ConnectionParams = Type.Object({ connection: ConnectionName });
export type ConnectionParams = Static<typeof ConnectionParams>;

/**
 * A grant of a connection to one agent or role, optionally narrower than the connection: its
 * methods and path patterns apply on top of the connection's own (never wider). Empty lists: the
 * connection's rules alone.
 */
export const ConnectionGrant = Type.Object({
  subject: Type.Union([Type.Literal('agent'), Type.Literal('role')]),
  /** The agent's or the role's name. */
  name: Type.String(),
  allowed_methods: Type.Array(Type.String()),
  allowed_paths: Type.Array(Type.String()),
});
export type ConnectionGrant = Static<typeof ConnectionGrant>;
export const ConnectionGrantList = Type.Array(ConnectionGrant);

/** Grants the connection with these rules (or changes the rules of a grant already held). */
export const ConnectionGrantRequest = StrictObject({
  allowed_methods: Type.Optional(Type.Array(HttpMethodName, { maxItems: 7, uniqueItems: true })),
  allowed_paths: Type.Optional(Type.Array(PathPattern, { maxItems: 100, uniqueItems: true })),
});
export type ConnectionGrantRequest = Static<typeof ConnectionGrantRequest>;

export const AgentConnectionGrantParams = Type.Object({
  connection: ConnectionName,
  agent: Type.String({ minLength: 1, maxLength: 128 }),
});
export const RoleConnectionGrantParams = Type.Object({
  connection: ConnectionName,
  role: Type.String({ minLength: 1, maxLength: 64 }),
});

/** Where the admin's browser goes to connect an account. */
export const OAuthStart = Type.Object({ authorization_url: Type.String(), expires_at: Timestamp });
export type OAuthStart = Static<typeof OAuthStart>;

/** The provider's redirect back to the daemon (`/connections/oauth/callback`). */
export const OAuthCallbackQuery = Type.Object({
  state: Type.String({ minLength: 1, maxLength: 512 }),
  code: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  error: Type.Optional(Type.String({ maxLength: 256 })),
  error_description: Type.Optional(Type.String({ maxLength: 1024 })),
  iss: Type.Optional(Type.String({ maxLength: 2048 })),
  scope: Type.Optional(Type.String({ maxLength: 4096 })),
});
export const OAuthConnected = Type.Object({ connection: Type.String(), connected_at: Timestamp });
