import { Type, type Static } from 'typebox';
import { Cursor, Nullable, Paging, Timestamp } from './common.js';

export const AuditOutcome = Type.Union([Type.Literal('success'), Type.Literal('failure')]);
export type AuditOutcome = Static<typeof AuditOutcome>;

/** One link of the hash chain. `metadata` never holds a secret. */
export const AuditEvent = Type.Object({
  sequence_number: Type.Integer(),
  event_type: Type.String(),
  at: Timestamp,
  actor: Type.String({ description: 'user:<username>, agent:<name>, anonymous or system' }),
  agent_id: Nullable(Type.String()),
  target: Nullable(Type.String()),
  project_id: Nullable(Type.String()),
  source: Nullable(Type.String({ description: 'The client address' })),
  outcome: AuditOutcome,
  metadata: Type.Record(Type.String(), Type.Unknown()),
  entry_hash: Type.String({ description: 'sha256:<hex> over this entry and previous_hash' }),
  previous_hash: Nullable(Type.String()),
});
export type AuditEvent = Static<typeof AuditEvent>;

export const AuditList = Type.Array(AuditEvent);

export const AuditQuery = Type.Object({
  ...Paging,
  ...Cursor,
  event_type: Type.Optional(
    Type.String({ maxLength: 64, description: 'Exact type, or a prefix ending in `.*` (e.g. `auth.*`)' }),
  ),
  agent_id: Type.Optional(Type.String({ maxLength: 64 })),
  outcome: Type.Optional(AuditOutcome),
  after: Type.Optional(Timestamp),
  before: Type.Optional(Timestamp),
});
export type AuditQuery = Static<typeof AuditQuery>;

export const AuditVerifyResult = Type.Union([
  Type.Object({
    is_valid: Type.Literal(true),
    entries_checked: Type.Integer(),
    first_sequence: Nullable(Type.Integer()),
    last_sequence: Nullable(Type.Integer()),
    verified_at: Timestamp,
  }),
  Type.Object({
    is_valid: Type.Literal(false),
    entries_checked: Type.Integer(),
    break_point: Type.Integer({ description: 'Sequence number of the first entry that does not verify' }),
    error: Type.String(),
    verified_at: Timestamp,
  }),
]);
export type AuditVerifyResult = Static<typeof AuditVerifyResult>;
