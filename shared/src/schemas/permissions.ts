import { Type, type Static } from 'typebox';
import { NameString, Nullable, StrictObject, Timestamp } from './common.js';
import { ToolName } from './users.js';

/** A tool the server knows: the server's ceiling on what any agent may be granted. */
export const Tool = Type.Object({
  name: Type.String(),
  description: Nullable(Type.String()),
  created_at: Timestamp,
});
export type Tool = Static<typeof Tool>;
export const ToolList = Type.Array(Tool);

/** Tool names are identifiers such as `web_search` or `github.create_issue`. */
export const RegisteredToolName = NameString({
  minLength: 1,
  maxLength: 128,
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*$',
});

export const CreateToolRequest = StrictObject({
  name: RegisteredToolName,
  description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
});
export type CreateToolRequest = Static<typeof CreateToolRequest>;

export const ToolParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) });

/** `{tools}` to grant, revoke or require approval for; `["*"]` grants every tool you may grant. */
export const ToolsRequest = StrictObject({ tools: Type.Array(ToolName, { maxItems: 1000, uniqueItems: true }) });
export type ToolsRequest = Static<typeof ToolsRequest>;

/** A named set of tools that can be assigned to agents. */
export const CapabilityRole = Type.Object({
  name: Type.String(),
  description: Nullable(Type.String()),
  tools: Type.Array(Type.String()),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type CapabilityRole = Static<typeof CapabilityRole>;
export const RoleList = Type.Array(CapabilityRole);

export const RoleName = NameString({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9]+(?:[-_][a-z0-9]+)*$' });

export const CreateRoleRequest = StrictObject({
  name: RoleName,
  description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  tools: Type.Array(ToolName, { maxItems: 1000, uniqueItems: true }),
});
export type CreateRoleRequest = Static<typeof CreateRoleRequest>;

/** Absent = unchanged; `description: null` clears it. */
export const UpdateRoleRequest = StrictObject({
  description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  tools: Type.Optional(Type.Array(ToolName, { maxItems: 1000, uniqueItems: true })),
});
export type UpdateRoleRequest = Static<typeof UpdateRoleRequest>;

export const RoleParams = Type.Object({ role: Type.String({ minLength: 1, maxLength: 64 }) });
export const AgentRoleParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128 }),
  role: Type.String({ minLength: 1, maxLength: 64 }),
});
export const AssignRoleRequest = StrictObject({ role: Type.String({ minLength: 1, maxLength: 64 }) });

export const AuthorizeRequest = StrictObject({ tool: Type.String({ minLength: 1, maxLength: 128 }) });

/** Why `/v1/authorize` answered as it did. */
export const AuthorizeReason = Type.Union([
  Type.Literal('granted'),
  Type.Literal('approval_required'),
  Type.Literal('not_granted'),
  Type.Literal('unknown_tool'),
]);
export const AuthorizeResult = Type.Object({
  allowed: Type.Boolean(),
  approval_required: Type.Boolean(),
  reason: AuthorizeReason,
});
export type AuthorizeResult = Static<typeof AuthorizeResult>;

/** What an agent may do now, for the console's Permissions tab. */
export const AgentPermissions = Type.Object({
  agent_id: Type.String(),
  permissions_version: Type.Integer(),
  allowed_tools: Type.Array(Type.String()),
  approval_required_tools: Type.Array(Type.String()),
  roles: RoleList,
  effective_tools: Type.Array(Type.String({ description: '(allowed_tools ∪ roles’ tools) ∩ registered tools' })),
});
export type AgentPermissions = Static<typeof AgentPermissions>;
