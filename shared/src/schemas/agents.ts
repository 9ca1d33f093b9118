import { Type, type Static } from 'typebox';
import { Cursor, NameString, Nullable, NullableTimestamp, Paging, StrictObject, Timestamp } from './common.js';
import { ToolName } from './users.js';

export const AgentStatus = Type.Union([Type.Literal('active'), Type.Literal('suspended'), Type.Literal('revoked')]);
export type AgentStatus = Static<typeof AgentStatus>;

/** What a permission change does to an agent's tokens (its access tokens stop either way). */
export const PermissionChangePolicy = Type.Union([Type.Literal('notify'), Type.Literal('revoke_tokens')], {
  description:
    'When the permissions change, notify: access tokens stop and a refresh gives new ones; revoke_tokens: every session and refresh token ends too, and the agent authenticates again with its key',
});

/** Agent names: trimmed, 1–64 characters, no `/` (it separates project and agent in keychain aliases). */
export const AgentName = NameString({ minLength: 1, maxLength: 64, pattern: '^\\s*[^/\\s][^/]*$' });
/** A scope is `resource:action`, e.g. `payments:read` or `self:write`. */
export const Scope = Type.String({ minLength: 3, maxLength: 128, pattern: '^[a-z0-9_.-]+:[a-z0-9_.*-]+$' });
const Text = (maxLength: number) => Type.String({ maxLength });

/** The agent object: the gateway's fields, the AgentAuth identity, and Gatehouse's own. */
export const Agent = Type.Object({
  id: Type.String({ description: 'UUID v7' }),
  name: Type.String(),
  description: Nullable(Type.String()),
  backend: Nullable(Type.String()),
  system_prompt: Nullable(Type.String()),
  allowed_tools: Type.Array(Type.String()),
  approval_required_tools: Type.Array(Type.String()),
  model: Nullable(Type.String()),
  history_limit: Nullable(Type.Integer()),
  group_id: Nullable(Type.String()),
  capability_role: Type.String(),
  permissions_version: Type.Integer(),
  /** True whenever `status` is not `active`. */
  revoked: Type.Boolean(),
  on_permission_change: PermissionChangePolicy,
  created_at: Timestamp,
  updated_at: Timestamp,
  provider: Nullable(Type.String()),
  project_id: Type.String(),
  scopes: Type.Array(Type.String()),
  status: AgentStatus,
  public_key: Type.String({ description: 'Ed25519 public key, PEM (SPKI)' }),
  key_fingerprint: Type.String({ description: 'sha256:<hex> of the DER public key' }),
  created_by: Nullable(Type.String()),
  last_auth_at: NullableTimestamp,
  revoked_at: NullableTimestamp,
});
export type Agent = Static<typeof Agent>;
export const AgentList = Type.Array(Agent);

export const AgentListQuery = Type.Object({
  ...Paging,
  ...Cursor,
  status: Type.Optional(AgentStatus),
  q: Type.Optional(Type.String({ maxLength: 64, description: 'Substring of the name or description' })),
});
export type AgentListQuery = Static<typeof AgentListQuery>;

/** `{name}` in a path: an agent's name or id. */
export const AgentParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) });
export type AgentParams = Static<typeof AgentParams>;

const agentFields = {
  description: Type.Optional(Nullable(Text(2000))),
  backend: Type.Optional(Nullable(Text(128))),
  system_prompt: Type.Optional(Nullable(Text(100_000))),
  model: Type.Optional(Nullable(Text(128))),
  history_limit: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 1_000_000 }))),
  group_id: Type.Optional(Nullable(Text(128))),
  provider: Type.Optional(Nullable(Text(128))),
  capability_role: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  on_permission_change: Type.Optional(PermissionChangePolicy),
};

/** Options for a key issued with the agent, or on its own. */
export const KeyOptions = {
  label: Type.Optional(Type.String({ maxLength: 128 })),
  expires_in_days: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 3650, default: 30, description: '0 = never expires' }),
  ),
  scopes: Type.Optional(
    Type.Array(Scope, { maxItems: 100, description: "A subset of the agent's scopes; empty = all" }),
  ),
  store_in_keychain: Type.Optional(Type.Boolean({ default: true })),
};

/** `POST /admin/agents` (the gateway's body, plus `issue_key`). */
export const CreateAgentRequest = StrictObject({
  name: AgentName,
  ...agentFields,
  allowed_tools: Type.Optional(Type.Array(ToolName, { maxItems: 1000 })),
  scopes: Type.Optional(Type.Array(Scope, { maxItems: 100 })),
  issue_key: Type.Optional(Type.Boolean({ description: 'Also issue an API key (returned once as agent_key)' })),
});
export type CreateAgentRequest = Static<typeof CreateAgentRequest>;

/** `PATCH /admin/agents/{name}`: absent = unchanged, explicit `null` = cleared. */
export const UpdateAgentRequest = StrictObject({
  name: Type.Optional(AgentName),
  ...agentFields,
  scopes: Type.Optional(Type.Array(Scope, { maxItems: 100 })),
});
export type UpdateAgentRequest = Static<typeof UpdateAgentRequest>;

export const DeletedAgent = Type.Object({ deleted: Type.String() });

/** `DELETE /v1/agents/{id}` (AgentAuth): permanent. */
export const RevokedAgent = Type.Object({ id: Type.String(), status: Type.Literal('revoked'), revoked_at: Timestamp });

/** AgentAuth's `POST /v1/agents` body. */
export const RegisterAgentRequest = StrictObject({
  name: AgentName,
  scopes: Type.Optional(Type.Array(Scope, { maxItems: 100 })),
  description: Type.Optional(Nullable(Text(2000))),
});
export type RegisterAgentRequest = Static<typeof RegisterAgentRequest>;

/** AgentAuth's create response: the identity and its `secret` (an agent key), shown once. */
export const RegisteredAgent = Type.Object({
  id: Type.String(),
  name: Type.String(),
  public_key: Type.String(),
  key_fingerprint: Type.String(),
  secret: Type.String(),
  scopes: Type.Array(Type.String()),
  status: AgentStatus,
  created_at: Timestamp,
});
export type RegisteredAgent = Static<typeof RegisteredAgent>;
