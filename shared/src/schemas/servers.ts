import { Type, type Static } from 'typebox';
import { Nullable, StrictObject, Timestamp } from './common.js';

/**
 * A server name is the first half of its tools' Gatehouse names (`<server>.<tool>`), so it holds
 * no dot and is unique across the daemon (the tool registry is the daemon's, not a project's).
 */
export const ServerName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9][a-z0-9_-]*$' });
export const ServerParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });

export const ServerTransport = Type.Union([Type.Literal('stdio'), Type.Literal('http')]);
export type ServerTransport = Static<typeof ServerTransport>;

/** `starting` until discovery answers, `running` after, `failed` while it waits to restart, `stopped` once disabled. */
export const ServerStatus = Type.Union([
  Type.Literal('starting'),
  Type.Literal('running'),
  Type.Literal('failed'),
  Type.Literal('stopped'),
]);
export type ServerStatus = Static<typeof ServerStatus>;

const EnvName = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z_][A-Za-z0-9_]*$' });

export const DiscoveredTool = Type.Object({
  /** The Gatehouse tool name, `<server>.<tool>`. */
  name: Type.String(),
  /** The upstream's own name for it. */
  upstream_name: Type.String(),
  description: Nullable(Type.String()),
});
export type DiscoveredTool = Static<typeof DiscoveredTool>;

/** A server as the API shows it: secret values never, only which names hold one. */
export const McpServer = Type.Object({
  id: Type.String(),
  project_id: Type.String(),
  name: Type.String(),
  transport: ServerTransport,
  command: Nullable(Type.String()),
  args: Type.Array(Type.String()),
  env: Type.Record(Type.String(), Type.String()),
  /** Names of environment variables whose values are in the keychain. */
  secret_env: Type.Array(Type.String()),
  url: Nullable(Type.String()),
  /** Whether an upstream credential is in the keychain, and the header it is sent in. */
  has_credential: Type.Boolean(),
  credential_header: Nullable(Type.String()),
  enabled: Type.Boolean(),
  status: ServerStatus,
  last_error: Nullable(Type.String()),
  tools: Type.Array(DiscoveredTool),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type McpServer = Static<typeof McpServer>;
export const McpServerList = Type.Array(McpServer);

const serverFields = {
  command: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  args: Type.Optional(Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 100 })),
  env: Type.Optional(Type.Record(EnvName, Type.String({ maxLength: 8192 }))),
  /** Environment values that are secrets: kept in the keychain, never in the database. */
  secret_env: Type.Optional(Type.Record(EnvName, Type.String({ minLength: 1, maxLength: 8192 }))),
  url: Type.Optional(Type.String({ format: 'uri', maxLength: 2048 })),
  /** The upstream credential, kept in the keychain; sent as `Authorization: Bearer …` unless `credential_header` names another header. */
  credential: Type.Optional(Type.String({ minLength: 1, maxLength: 8192 })),
  credential_header: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9-]+$' })),
  enabled: Type.Optional(Type.Boolean()),
};

export const CreateServerRequest = StrictObject({ name: ServerName, transport: ServerTransport, ...serverFields });
export type CreateServerRequest = Static<typeof CreateServerRequest>;

/** Fields given replace the stored ones (`env`/`secret_env` as a whole). */
export const UpdateServerRequest = StrictObject(serverFields);
export type UpdateServerRequest = Static<typeof UpdateServerRequest>;
