import { Type, type Static } from 'typebox';
import { NameString, Nullable, NullableTimestamp, Paging, StrictObject, Timestamp, Uuid } from './common.js';
import { Password, Username } from './auth.js';

export const UserRole = Type.Union([Type.Literal('viewer'), Type.Literal('admin'), Type.Literal('super_admin')]);
export type UserRole = Static<typeof UserRole>;

export const UserKind = Type.Union([Type.Literal('human'), Type.Literal('agent')]);
export type UserKind = Static<typeof UserKind>;

/** A tool name, or `*` for every tool the server knows. */
export const ToolName = NameString({ minLength: 1, maxLength: 128 });
/** The most a user may grant to agents: a list of tools, or `"*"` for all of them. */
export const ToolCeiling = Type.Union([Type.Literal('*'), Type.Array(ToolName, { maxItems: 1000 })]);
export type ToolCeiling = Static<typeof ToolCeiling>;

export const User = Type.Object({
  id: Uuid,
  username: Type.String(),
  email: Nullable(Type.String()),
  kind: UserKind,
  role: UserRole,
  tool_ceiling: ToolCeiling,
  mfa_enabled: Type.Boolean(),
  first_name: Nullable(Type.String()),
  disabled: Type.Boolean(),
  created_at: Timestamp,
});
export type User = Static<typeof User>;

export const UserList = Type.Array(User);

export const UserListQuery = Type.Object({
  ...Paging,
  q: Type.Optional(Type.String({ maxLength: 64, description: 'Substring of username or email' })),
});
export type UserListQuery = Static<typeof UserListQuery>;

export const CreateUserRequest = StrictObject({
  username: Username,
  password: Password,
  email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
  role: Type.Optional(UserRole),
  tool_ceiling: Type.Optional(ToolCeiling),
});
export type CreateUserRequest = Static<typeof CreateUserRequest>;

/** Absent fields are left unchanged; `email: null` clears the email. */
export const UpdateUserRequest = StrictObject({
  email: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254 }))),
  role: Type.Optional(UserRole),
  disabled: Type.Optional(Type.Boolean()),
  password: Type.Optional(Password),
  tool_ceiling: Type.Optional(ToolCeiling),
});
export type UpdateUserRequest = Static<typeof UpdateUserRequest>;

export const UserParams = Type.Object({ id: Uuid });
export type UserParams = Static<typeof UserParams>;

export const CreatePersonalTokenRequest = StrictObject({
  label: Type.Optional(Type.String({ maxLength: 128 })),
  expires_in_days: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 3650, default: 90, description: '0 = never expires' }),
  ),
});
export type CreatePersonalTokenRequest = Static<typeof CreatePersonalTokenRequest>;

export const PersonalToken = Type.Object({
  id: Uuid,
  label: Nullable(Type.String()),
  prefix: Type.String(),
  last_four: Type.String(),
  created_at: Timestamp,
  expires_at: NullableTimestamp,
  last_used_at: NullableTimestamp,
  revoked_at: NullableTimestamp,
});
export type PersonalToken = Static<typeof PersonalToken>;

/** The token itself is in `token`, returned this once. */
export const CreatedPersonalToken = Type.Object({ ...PersonalToken.properties, token: Type.String() });
export type CreatedPersonalToken = Static<typeof CreatedPersonalToken>;

export const PersonalTokenList = Type.Array(PersonalToken);

export const PersonalTokenParams = Type.Object({ id: Uuid, token_id: Uuid });
export type PersonalTokenParams = Static<typeof PersonalTokenParams>;
