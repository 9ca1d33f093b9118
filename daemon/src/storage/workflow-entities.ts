import { EntitySchema } from 'typeorm';
import type { EdgeType, NodeType } from '@gatehouse/shared';
import { nullableText, text } from './entities.js';

export interface WorkflowRow {
  id: string;
  project_id: string;
  name: string;
  slug: string;
  definition: string;
  /** The numbers the next node and edge get (`n<next_node>`, `e<next_edge>`): ids are never reused. */
  next_node: number;
  next_edge: number;
  created_at: string;
  updated_at: string;
}
export const WorkflowEntity = new EntitySchema<WorkflowRow>({
  name: 'Workflow',
  tableName: 'workflows',
  columns: {
    id: { ...text, primary: true },
    project_id: text,
    name: text,
    slug: text,
    definition: text,
    next_node: { type: 'integer' },
    next_edge: { type: 'integer' },
    created_at: text,
    updated_at: text,
  },
});

export interface WorkflowNodeRow {
  workflow_id: string;
  id: string;
  node_type: NodeType;
  agent_id: string | null;
  label: string | null;
  position_x: number;
  position_y: number;
  /** JSON text of an object (kept as text: TypeORM's partial-update types cannot hold free-form JSON). */
  config: string;
  created_at: string;
  updated_at: string;
}
export const WorkflowNodeEntity = new EntitySchema<WorkflowNodeRow>({
  name: 'WorkflowNode',
  tableName: 'workflow_nodes',
  columns: {
    workflow_id: { ...text, primary: true },
    id: { ...text, primary: true },
    node_type: text,
    agent_id: nullableText,
    label: nullableText,
    position_x: { type: 'real' },
    position_y: { type: 'real' },
    config: text,
    created_at: text,
    updated_at: text,
  },
});

export interface WorkflowEdgeRow {
  workflow_id: string;
  id: string;
  source_node_id: string;
  target_node_id: string;
  edge_type: EdgeType;
  condition: string | null;
  created_at: string;
}
export const WorkflowEdgeEntity = new EntitySchema<WorkflowEdgeRow>({
  name: 'WorkflowEdge',
  tableName: 'workflow_edges',
  columns: {
    workflow_id: { ...text, primary: true },
    id: { ...text, primary: true },
    source_node_id: text,
    target_node_id: text,
    edge_type: text,
    condition: nullableText,
    created_at: text,
  },
});

/** The user `agent_{workflow_slug}_{node_id}` of one workflow node, and the key it authenticates with. */
export interface AgentUserRow {
  user_id: string;
  workflow_id: string;
  node_id: string;
  agent_id: string | null;
  /** Null once the key row is gone (its agent was deleted). */
  key_id: string | null;
  created_at: string;
}
export const AgentUserEntity = new EntitySchema<AgentUserRow>({
  name: 'AgentUser',
  tableName: 'agent_users',
  columns: {
    user_id: { ...text, primary: true },
    workflow_id: text,
    node_id: text,
    agent_id: nullableText,
    key_id: nullableText,
    created_at: text,
  },
});

export const workflowEntities = [WorkflowEntity, WorkflowNodeEntity, WorkflowEdgeEntity, AgentUserEntity];
