import { Type, type Static } from 'typebox';
import { Nullable, Paging, StrictObject, Timestamp, Uuid } from './common.js';

export const ApprovalStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('approved'),
  Type.Literal('denied'),
  Type.Literal('expired'),
]);
export type ApprovalStatus = Static<typeof ApprovalStatus>;

/** An agent's request to use an approval-required tool once; a human approves or denies it. */
export const ApprovalRequest = Type.Object({
  id: Uuid,
  agent_id: Type.String(),
  agent_name: Type.String(),
  project_id: Type.String(),
  tool: Type.String(),
  summary: Type.String(),
  idempotency_key: Type.String(),
  status: ApprovalStatus,
  created_at: Timestamp,
  expires_at: Timestamp,
  decided_by: Nullable(Type.String({ description: 'user:<username> who approved or denied' })),
  decided_at: Nullable(Timestamp),
  decision_note: Nullable(Type.String()),
});
export type ApprovalRequest = Static<typeof ApprovalRequest>;
export const ApprovalList = Type.Array(ApprovalRequest);

export const CreateApprovalRequest = StrictObject({
  tool: Type.String({ minLength: 1, maxLength: 128 }),
  summary: Type.String({ minLength: 1, maxLength: 2000, description: 'What the agent wants to do, for the approver' }),
  idempotency_key: Type.String({
    minLength: 1,
    maxLength: 128,
    description: 'The same key returns the same request instead of a new one',
  }),
  expires_in_seconds: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 86_400, default: 900, description: 'How long it may wait (default 15 min)' }),
  ),
});
export type CreateApprovalRequest = Static<typeof CreateApprovalRequest>;

export const ApprovalListQuery = Type.Object({ ...Paging, status: Type.Optional(ApprovalStatus) });
export type ApprovalListQuery = Static<typeof ApprovalListQuery>;

export const ApprovalParams = Type.Object({ id: Uuid });

export const DecideApprovalRequest = StrictObject({
  note: Type.Optional(Type.String({ maxLength: 2000 })),
});
