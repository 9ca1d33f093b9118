import { Type, type Static } from 'typebox';
import { Nullable, NullableTimestamp, StrictObject, Timestamp } from './common.js';
import { KeyOptions } from './agents.js';

/** An agent API key as listed: never the key itself. */
export const AgentKey = Type.Object({
  id: Type.String(),
  agent_id: Type.String(),
  label: Nullable(Type.String()),
  prefix: Type.String(),
  last_four: Type.String(),
  scopes: Type.Array(Type.String()),
  created_at: Timestamp,
  expires_at: NullableTimestamp,
  /** Written in batches: may lag up to a minute. */
  last_used_at: NullableTimestamp,
  revoked_at: NullableTimestamp,
  replaced_by: Nullable(Type.String()),
  active: Type.Boolean(),
  in_keychain: Type.Boolean(),
});
export type AgentKey = Static<typeof AgentKey>;
export const AgentKeyList = Type.Array(AgentKey);

/** Where a secret was saved in the OS keychain. */
export const KeychainLocation = Type.Object({ service: Type.String(), account: Type.String() });
export type KeychainLocation = Static<typeof KeychainLocation>;

/** A new key: `api_key` is shown this once; `keychain` says where it was saved (null if not). */
export const IssuedAgentKey = Type.Object({
  ...AgentKey.properties,
  api_key: Type.String(),
  keychain: Nullable(KeychainLocation),
});
export type IssuedAgentKey = Static<typeof IssuedAgentKey>;

export const CreateKeyRequest = StrictObject(KeyOptions);
export type CreateKeyRequest = Static<typeof CreateKeyRequest>;

export const MAX_GRACE_SECONDS = 7 * 24 * 3600;
export const RotateKeyRequest = StrictObject({
  grace_seconds: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: MAX_GRACE_SECONDS,
      default: 0,
      description: 'How long the old key keeps working (0 = stops now)',
    }),
  ),
  label: Type.Optional(Type.String({ maxLength: 128 })),
});
export type RotateKeyRequest = Static<typeof RotateKeyRequest>;

export const KeyParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128 }),
  key_id: Type.String({ minLength: 1, maxLength: 64 }),
});
export type KeyParams = Static<typeof KeyParams>;
