import { EntitySchema, type EntityManager } from 'typeorm';
import type { AuditOutcome, Privilege, ToolCeiling, UserKind, UserRole } from '@gatehouse/shared';

/*
 * Thin row types and their TypeORM mappings. Timestamps are ISO-8601 strings (they sort as
 * text); booleans and JSON columns are converted by TypeORM. Business rules live in domain/.
 * The schema itself is defined by the migrations, never by `synchronize`.
 */

export const text = { type: 'text' } as const;
export const nullableText = { type: 'text', nullable: true } as const;

export interface ProjectRow {
  id: string;
  name: string;
  slug: string;
  description: string | null;
  domain: string | null;
  created_by: string | null;
  created_at: string;
}
export const ProjectEntity = new EntitySchema<ProjectRow>({
  name: 'Project',
  tableName: 'projects',
  columns: {
    id: { ...text, primary: true },
    name: text,
    slug: text,
    description: nullableText,
    domain: nullableText,
    created_by: nullableText,
    created_at: text,
  },
});

export interface UserRow {
  id: string;
  username: string;
  email: string | null;
  kind: UserKind;
  /** scrypt hash; null for agent users, who cannot log in. */
  password_hash: string | null;
  role: UserRole;
  tool_ceiling: ToolCeiling;
  mfa_enabled: boolean;
  /** The last TOTP time step accepted: a code is never accepted twice (replay guard). */
  totp_last_step: number | null;
  /** Consecutive wrong TOTP codes; 10 lock MFA for 15 minutes. */
  totp_failures: number;
  totp_locked_until: string | null;
  /** Consecutive wrong passwords; they lock the login for a while. */
  failed_logins: number;
  locked_until: string | null;
  first_name: string | null;
  middle_name: string | null;
  last_name: string | null;
  disabled: boolean;
  created_at: string;
  updated_at: string;
}
export const UserEntity = new EntitySchema<UserRow>({
  name: 'User',
  tableName: 'users',
  columns: {
    id: { ...text, primary: true },
    username: text,
    email: nullableText,
    kind: text,
    password_hash: nullableText,
    role: text,
    tool_ceiling: { type: 'simple-json' },
    mfa_enabled: { type: 'boolean' },
    totp_last_step: { type: 'integer', nullable: true },
    totp_failures: { type: 'integer' },
    totp_locked_until: nullableText,
    failed_logins: { type: 'integer' },
    locked_until: nullableText,
    first_name: nullableText,
    middle_name: nullableText,
    last_name: nullableText,
    disabled: { type: 'boolean' },
    created_at: text,
    updated_at: text,
  },
});

/**
 * Adds one to a user's failure counter and returns the count it reached. The increment is one
 * UPDATE, so failures racing each other (in this daemon or on another replica) all count; a count
 * read before the write and written back would lose them. The read sees the transaction's own
 * update, and on PostgreSQL the row stays locked until the transaction ends.
 */
export async function countUserFailure(
  tx: EntityManager,
  userId: string,
  counter: 'failed_logins' | 'totp_failures',
): Promise<number> {
  await tx.increment(UserEntity, { id: userId }, counter, 1);
  const row = await tx.findOneOrFail(UserEntity, { where: { id: userId }, select: { id: true, [counter]: true } });
  return row[counter];
}

export interface MembershipRow {
  user_id: string;
  project_id: string;
  privilege: Privilege;
  created_at: string;
}
export const MembershipEntity = new EntitySchema<MembershipRow>({
  name: 'Membership',
  tableName: 'memberships',
  columns: {
    user_id: { ...text, primary: true },
    project_id: { ...text, primary: true },
    privilege: { type: 'integer' },
    created_at: text,
  },
});

/** A signed-in session: the chain its refresh tokens rotate along. */
export interface SessionRow {
  id: string;
  user_id: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoked_reason: string | null;
  source: string | null;
  user_agent: string | null;
}
export const SessionEntity = new EntitySchema<SessionRow>({
  name: 'Session',
  tableName: 'sessions',
  columns: {
    id: { ...text, primary: true },
    user_id: text,
    created_at: text,
    expires_at: text,
    revoked_at: nullableText,
    revoked_reason: nullableText,
    source: nullableText,
    user_agent: nullableText,
  },
});

export interface RefreshTokenRow {
  id: string;
  session_id: string;
  prefix: string;
  /** sha-256 of the whole token, hex. */
  token_hash: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  replaced_by: string | null;
}
/** The columns of a session's refresh tokens (human sessions here, agent sessions in agent-entities). */
export const refreshTokenColumns = {
  id: { ...text, primary: true },
  session_id: text,
  prefix: text,
  token_hash: text,
  created_at: text,
  expires_at: text,
  revoked_at: nullableText,
  replaced_by: nullableText,
} as const;
export const RefreshTokenEntity = new EntitySchema<RefreshTokenRow>({
  name: 'RefreshToken',
  tableName: 'refresh_tokens',
  columns: refreshTokenColumns,
});

export interface PersonalTokenRow {
  id: string;
  user_id: string;
  label: string | null;
  prefix: string;
  token_hash: string;
  last_four: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}
export const PersonalTokenEntity = new EntitySchema<PersonalTokenRow>({
  name: 'PersonalToken',
  tableName: 'personal_tokens',
  columns: {
    id: { ...text, primary: true },
    user_id: text,
    label: nullableText,
    prefix: text,
    token_hash: text,
    last_four: text,
    created_at: text,
    expires_at: nullableText,
    last_used_at: nullableText,
    revoked_at: nullableText,
  },
});

/** The daemon's token-signing keys: public half here, private half in the keychain. */
export interface SigningKeyRow {
  kid: string;
  public_key: string;
  created_at: string;
  retired_at: string | null;
}
export const SigningKeyEntity = new EntitySchema<SigningKeyRow>({
  name: 'SigningKey',
  tableName: 'signing_keys',
  columns: { kid: { ...text, primary: true }, public_key: text, created_at: text, retired_at: nullableText },
});

export interface AuditEventRow {
  sequence_number: number;
  at: string;
  event_type: string;
  actor: string;
  agent_id: string | null;
  target: string | null;
  project_id: string | null;
  source: string | null;
  outcome: AuditOutcome;
  /** JSON text exactly as hashed. */
  metadata: string;
  previous_hash: string | null;
  entry_hash: string;
}
export const AuditEventEntity = new EntitySchema<AuditEventRow>({
  name: 'AuditEvent',
  tableName: 'audit_events',
  columns: {
    sequence_number: { type: 'integer', primary: true },
    at: text,
    event_type: text,
    actor: text,
    agent_id: nullableText,
    target: nullableText,
    project_id: nullableText,
    source: nullableText,
    outcome: text,
    metadata: text,
    previous_hash: nullableText,
    entry_hash: text,
  },
});

/** A project's backend SDK key (OTAS's `BackendAPIKey`): only its sha-256 is kept. */
export interface SdkKeyRow {
  id: string;
  project_id: string;
  name: string | null;
  prefix: string;
  secret_hash: string;
  created_by: string | null;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}
export const SdkKeyEntity = new EntitySchema<SdkKeyRow>({
  name: 'SdkKey',
  tableName: 'sdk_keys',
  columns: {
    id: { ...text, primary: true },
    project_id: text,
    name: nullableText,
    prefix: text,
    secret_hash: text,
    created_by: nullableText,
    created_at: text,
    expires_at: nullableText,
    last_used_at: nullableText,
    revoked_at: nullableText,
  },
});

export const entities = [
  ProjectEntity,
  UserEntity,
  MembershipEntity,
  SessionEntity,
  RefreshTokenEntity,
  PersonalTokenEntity,
  SigningKeyEntity,
  AuditEventEntity,
  SdkKeyEntity,
];
