import { EntitySchema } from 'typeorm';
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

export const permissionEntities = [ToolEntity, CapabilityRoleEntity, AgentRoleEntity];
