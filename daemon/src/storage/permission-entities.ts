import { EntitySchema } from 'typeorm';
import type { ApprovalStatus } from '@gatehouse/shared';
import { nullableText, text } from './entities.js';

export interface ToolRow {
  name: string;
  description: string | null;
  created_at: string;
}
export const ToolEntity = new EntitySchema<ToolRow>({
  name: 'Tool',
  tableName: 'tools',
  columns: { name: { ...text, primary: true }, description: nullableText, created_at: text },
});

export interface CapabilityRoleRow {
  name: string;
  description: string | null;
  tools: string[];
  created_at: string;
  updated_at: string;
}
export const CapabilityRoleEntity = new EntitySchema<CapabilityRoleRow>({
  name: 'CapabilityRole',
  tableName: 'capability_roles',
  columns: {
    name: { ...text, primary: true },
    description: nullableText,
    tools: { type: 'simple-json' },
    created_at: text,
    updated_at: text,
  },
});

export interface AgentRoleRow {
  agent_id: string;
  role: string;
  created_at: string;
}
export const AgentRoleEntity = new EntitySchema<AgentRoleRow>({
  name: 'AgentRole',
  tableName: 'agent_roles',
  columns: { agent_id: { ...text, primary: true }, role: { ...text, primary: true }, created_at: text },
});

export interface ApprovalRow {
  id: string;
  agent_id: string;
  project_id: string;
  tool: string;
  summary: string;
  idempotency_key: string;
  /** `pending` rows past `expires_at` read as `expired` (and are stored so when next written). */
  status: ApprovalStatus;
  created_at: string;
  expires_at: string;
  decided_by: string | null;
  decided_at: string | null;
  decision_note: string | null;
}
export const ApprovalEntity = new EntitySchema<ApprovalRow>({
  name: 'Approval',
  tableName: 'approval_requests',
  columns: {
    id: { ...text, primary: true },
    agent_id: text,
    project_id: text,
    tool: text,
    summary: text,
    idempotency_key: text,
    status: text,
    created_at: text,
    expires_at: text,
    decided_by: nullableText,
    decided_at: nullableText,
    decision_note: nullableText,
  },
});

export const permissionEntities = [ToolEntity, CapabilityRoleEntity, AgentRoleEntity, ApprovalEntity];
