import { Type, type Static } from 'typebox';
import { AgentStatus } from './agents.js';
import { NameString, Nullable, Paging, StrictObject, Timestamp, Uuid } from './common.js';
import { KeychainLocation } from './keys.js';

/** A workflow's name: trimmed, 1–64 characters, with letters or digits for its slug. */
export const WorkflowName = NameString({ minLength: 1, maxLength: 64, pattern: '[A-Za-z0-9]' });

export const Workflow = Type.Object({
  id: Uuid,
  project_id: Uuid,
  name: Type.String(),
  slug: Type.String({ description: 'Lowercase letters, digits and dashes, from the name; unique in the project' }),
  definition: Type.String(),
  node_count: Type.Integer(),
  edge_count: Type.Integer(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Workflow = Static<typeof Workflow>;
export const WorkflowList = Type.Array(Workflow);

export const WorkflowListQuery = Type.Object({
  ...Paging,
  q: Type.Optional(Type.String({ maxLength: 64, description: 'Substring of the name' })),
});
export type WorkflowListQuery = Static<typeof WorkflowListQuery>;

export const CreateWorkflowRequest = StrictObject({
  name: WorkflowName,
  definition: Type.Optional(Type.String({ maxLength: 65_536, description: 'Free text describing the workflow' })),
});
export type CreateWorkflowRequest = Static<typeof CreateWorkflowRequest>;

export const WorkflowParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128, description: "The workflow's name, slug or id" }),
});

export const NodeType = Type.Union([
  Type.Literal('agent'),
  Type.Literal('start'),
  Type.Literal('end'),
  Type.Literal('tool'),
  Type.Literal('approval'),
]);
export type NodeType = Static<typeof NodeType>;

export const EdgeType = Type.Union([Type.Literal('default'), Type.Literal('conditional')]);
export type EdgeType = Static<typeof EdgeType>;

const NodeId = Type.String({ pattern: '^n[1-9][0-9]{0,8}$', description: '`n1`, `n2`… unique in the workflow' });
const EdgeId = Type.String({ pattern: '^e[1-9][0-9]{0,8}$', description: '`e1`, `e2`… unique in the workflow' });
const Position = Type.Number({ minimum: -1e6, maximum: 1e6 });
/** A node's settings; `system_prompt` and `extra_config` are what its agent user may change itself. */
const NodeConfig = Type.Record(Type.String({ maxLength: 128 }), Type.Unknown(), {
  description: 'Free-form settings; `system_prompt` (string) and `extra_config` (object) are read by agent users',
});

export const WorkflowNode = Type.Object({
  id: NodeId,
  node_type: NodeType,
  agent_id: Nullable(
    Type.String({
      description: "The bound agent's name, as the gateway refers to agents; null when none is bound or it was deleted",
    }),
  ),
  agent: Nullable(Type.Object({ id: Uuid, name: Type.String(), status: AgentStatus })),
  label: Nullable(Type.String()),
  position_x: Type.Number(),
  position_y: Type.Number(),
  config: NodeConfig,
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type WorkflowNode = Static<typeof WorkflowNode>;

export const WorkflowEdge = Type.Object({
  id: EdgeId,
  source_node_id: Type.String(),
  target_node_id: Type.String(),
  edge_type: EdgeType,
  condition: Nullable(Type.String()),
  created_at: Timestamp,
});
export type WorkflowEdge = Static<typeof WorkflowEdge>;

export const WorkflowGraph = Type.Object({ nodes: Type.Array(WorkflowNode), edges: Type.Array(WorkflowEdge) });
export type WorkflowGraph = Static<typeof WorkflowGraph>;

const AgentRef = Type.String({ minLength: 1, maxLength: 128, description: "The agent's name or id, in this project" });
const Label = Type.String({ maxLength: 200 });

export const CreateNodeRequest = StrictObject({
  node_type: NodeType,
  agent_id: Type.Optional(Nullable(AgentRef)),
  label: Type.Optional(Nullable(Label)),
  position_x: Type.Optional(Position),
  position_y: Type.Optional(Position),
  config: Type.Optional(NodeConfig),
});
export type CreateNodeRequest = Static<typeof CreateNodeRequest>;

/** Absent fields stay as they are; `null` clears `agent_id` or `label`. */
export const UpdateNodeRequest = StrictObject(
  {
    agent_id: Type.Optional(Nullable(AgentRef)),
    label: Type.Optional(Nullable(Label)),
    position_x: Type.Optional(Position),
    position_y: Type.Optional(Position),
    config: Type.Optional(NodeConfig),
  },
  { minProperties: 1 },
);
export type UpdateNodeRequest = Static<typeof UpdateNodeRequest>;

export const NodeParams = Type.Object({
  name: WorkflowParams.properties.name,
  node_id: Type.String({ maxLength: 16 }),
});
export const EdgeParams = Type.Object({
  name: WorkflowParams.properties.name,
  edge_id: Type.String({ maxLength: 16 }),
});

export const CreateEdgeRequest = StrictObject({
  source_node_id: Type.String({ minLength: 1, maxLength: 16 }),
  target_node_id: Type.String({ minLength: 1, maxLength: 16 }),
  edge_type: Type.Optional(EdgeType),
  condition: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
});
export type CreateEdgeRequest = Static<typeof CreateEdgeRequest>;

/** Absent fields stay as they are; a conditional edge must end up with a condition. */
export const UpdateEdgeRequest = StrictObject(
  { edge_type: Type.Optional(EdgeType), condition: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))) },
  { minProperties: 1 },
);
export type UpdateEdgeRequest = Static<typeof UpdateEdgeRequest>;

export const DeletedNode = Type.Object({ deleted: Type.String(), deleted_edges: Type.Array(Type.String()) });
export const DeletedEdge = Type.Object({ deleted: Type.String() });
export const DeletedWorkflow = Type.Object({ deleted: Type.String() });

export const WorkflowProblemKind = Type.Union([
  Type.Literal('agent_missing'),
  Type.Literal('agent_not_active'),
  Type.Literal('edge_missing_node'),
  Type.Literal('condition_missing'),
  Type.Literal('unreachable_node'),
  Type.Literal('cycle'),
]);
export type WorkflowProblemKind = Static<typeof WorkflowProblemKind>;

/** One thing wrong with a graph, pointing at the nodes and edges to draw it on. */
export const WorkflowProblem = Type.Object({
  kind: WorkflowProblemKind,
  /** `error`s make the workflow invalid; a cycle is a `warning` (loops are allowed). */
  severity: Type.Union([Type.Literal('error'), Type.Literal('warning')]),
  message: Type.String(),
  node_ids: Type.Array(Type.String()),
  edge_ids: Type.Array(Type.String()),
});
export type WorkflowProblem = Static<typeof WorkflowProblem>;

export const WorkflowValidation = Type.Object({
  valid: Type.Boolean({ description: 'No errors (warnings allowed)' }),
  problems: Type.Array(WorkflowProblem),
});
export type WorkflowValidation = Static<typeof WorkflowValidation>;

// ── agent users (Pipelit) ───────────────────────────────────────────────────────────────────

export const AgentUserParams = Type.Object({
  slug: Type.String({ minLength: 1, maxLength: 128 }),
  node_id: Type.String({ minLength: 1, maxLength: 16 }),
});

export const CreateAgentUserRequest = StrictObject({
  purpose: Type.Optional(Type.String({ maxLength: 200, description: "Stored as the user's first_name" })),
  api_base_url: Type.Optional(
    Type.String({
      maxLength: 2048,
      pattern: '^https?://',
      description: "Default: the node's extra_config.api_base_url, else this daemon",
    }),
  ),
});
export type CreateAgentUserRequest = Static<typeof CreateAgentUserRequest>;

/** Pipelit's `create_agent_user` output. */
export const AgentUserCredentials = Type.Object({
  success: Type.Literal(true),
  username: Type.String({ description: 'agent_{workflow_slug}_{node_id}' }),
  api_key: Type.String({ description: 'The agent user’s API key (read back from the OS keychain on a repeat call)' }),
  api_base_url: Type.String(),
  purpose: Type.String(),
  already_existed: Type.Boolean(),
  keychain: KeychainLocation,
});
export type AgentUserCredentials = Static<typeof AgentUserCredentials>;

export const CurrentTotpCode = Type.Object({
  success: Type.Literal(true),
  username: Type.String(),
  totp_code: Type.String(),
  expires_in: Type.Integer({ description: 'Seconds until the code rolls over' }),
});
export const VerifyTotpRequest = StrictObject({
  username: Type.String({ minLength: 1, maxLength: 200 }),
  code: Type.String({ pattern: '^[0-9]{6}$' }),
});
export const TotpVerdict = Type.Object({ valid: Type.Boolean() });

/**
 * An agent user changing its own node. Other fields reach the daemon (to be refused with 403,
 * naming them) instead of failing schema validation: an agent must learn that it may not, not
 * that it spelled something wrong.
 */
export const SelfUpdateNodeRequest = Type.Object(
  {
    system_prompt: Type.Optional(Type.String({ maxLength: 100_000 })),
    extra_config: Type.Optional(Type.Record(Type.String({ maxLength: 128 }), Type.Unknown())),
  },
  { additionalProperties: true, minProperties: 1 },
);
export type SelfUpdateNodeRequest = Static<typeof SelfUpdateNodeRequest>;

/** `GET /v1/whoami` for an agent user, in Pipelit's shape. */
export const AgentUserWhoami = Type.Object({
  principal: Type.Literal('agent_user'),
  identity: Type.Object({
    username: Type.String(),
    workflow_slug: Type.String(),
    workflow_id: Uuid,
    node_id: Type.String(),
    agent_id: Nullable(Uuid),
  }),
  current_config: Type.Object({
    system_prompt: Type.String({ description: 'The first 1000 characters' }),
    system_prompt_length: Type.Integer(),
    extra_config: Type.Record(Type.String(), Type.Unknown()),
  }),
  self_modification: Type.Object({
    endpoint: Type.String(),
    method: Type.Literal('PATCH'),
    example_body: Type.Object({ system_prompt: Type.String() }),
  }),
});
export type AgentUserWhoami = Static<typeof AgentUserWhoami>;
