import { EntitySchema } from 'typeorm';
import type { AgentStatus } from '@gatehouse/shared';
import { nullableText, refreshTokenColumns, text, type RefreshTokenRow } from './entities.js';

export interface AgentRow {
  id: string;
  project_id: string;
  name: string;
  description: string | null;
  provider: string | null;
  backend: string | null;
  model: string | null;
  system_prompt: string | null;
  allowed_tools: string[];
  approval_required_tools: string[];
  history_limit: number | null;
  group_id: string | null;
  capability_role: string;
  scopes: string[];
  status: AgentStatus;
  /** Bumped by every change to what the agent may do; tokens of an older version are refused. */
  permissions_version: number;
  on_permission_change: 'notify' | 'revoke_tokens';
  public_key: string;
  key_fingerprint: string;
  created_by: string | null;
  created_at: string;
  updated_at: string;
  revoked_at: string | null;
  last_auth_at: string | null;
}
export const AgentEntity = new EntitySchema<AgentRow>({
  name: 'Agent',
  tableName: 'agents',
  columns: {
    id: { ...text, primary: true },
    project_id: text,
    name: text,
    description: nullableText,
    provider: nullableText,
    backend: nullableText,
    model: nullableText,
    system_prompt: nullableText,
    allowed_tools: { type: 'simple-json' },
    approval_required_tools: { type: 'simple-json' },
    history_limit: { type: 'integer', nullable: true },
    group_id: nullableText,
    capability_role: text,
    scopes: { type: 'simple-json' },
    status: text,
    permissions_version: { type: 'integer' },
    on_permission_change: text,
    public_key: text,
    key_fingerprint: text,
    created_by: nullableText,
    created_at: text,
    updated_at: text,
    revoked_at: nullableText,
    last_auth_at: nullableText,
  },
});

export interface AgentKeyRow {
  id: string;
  agent_id: string;
  label: string | null;
  prefix: string;
  /** sha-256 of the whole key, hex: keys are high-entropy, so no slow KDF. */
  secret_hash: string;
  last_four: string;
  scopes: string[];
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  /** When the key stops working; in the future while a rotated key is in its grace period. */
  revoked_at: string | null;
  replaced_by: string | null;
  in_keychain: boolean;
}
export const AgentKeyEntity = new EntitySchema<AgentKeyRow>({
  name: 'AgentKey',
  tableName: 'agent_keys',
  columns: {
    id: { ...text, primary: true },
    agent_id: text,
    label: nullableText,
    prefix: text,
    secret_hash: text,
    last_four: text,
    scopes: { type: 'simple-json' },
    created_at: text,
    expires_at: nullableText,
    last_used_at: nullableText,
    revoked_at: nullableText,
    replaced_by: nullableText,
    in_keychain: { type: 'boolean' },
  },
});

export type AgentSessionVia = 'agent_key' | 'challenge' | 'user_exchange';

/** The tokens issued from one authentication of an agent; revoking it ends them all. */
export interface AgentSessionRow {
  id: string;
  agent_id: string;
  via: AgentSessionVia;
  /** The human whose token was exchanged (`user_exchange`). */
  user_id: string | null;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoked_reason: string | null;
  /** The scopes its authentication granted (a key's may be narrower); null for sessions older than that. */
  scopes: string[] | null;
  /** The key it was opened with (`agent_key`). */
  key_id: string | null;
  /** The notes its client sent when it opened (OTAS's session `meta`), as JSON text. */
  meta: string | null;
}
export const AgentSessionEntity = new EntitySchema<AgentSessionRow>({
  name: 'AgentSession',
  tableName: 'agent_sessions',
  columns: {
    id: { ...text, primary: true },
    agent_id: text,
    via: text,
    user_id: nullableText,
    created_at: text,
    expires_at: text,
    revoked_at: nullableText,
    revoked_reason: nullableText,
    scopes: { type: 'simple-json', nullable: true },
    key_id: nullableText,
    meta: nullableText,
  },
});

export const AgentRefreshTokenEntity = new EntitySchema<RefreshTokenRow>({
  name: 'AgentRefreshToken',
  tableName: 'agent_refresh_tokens',
  columns: refreshTokenColumns,
});

export const agentEntities = [AgentEntity, AgentKeyEntity, AgentSessionEntity, AgentRefreshTokenEntity];
