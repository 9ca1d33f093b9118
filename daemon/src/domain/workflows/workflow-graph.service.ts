import { In, type EntityManager } from 'typeorm';
import type {
  CreateEdgeRequest,
  CreateNodeRequest,
  UpdateEdgeRequest,
  UpdateNodeRequest,
  WorkflowEdge,
  WorkflowGraph,
  WorkflowNode,
  WorkflowValidation,
} from '@gatehouse/shared';
import { conflict, forbidden, notFound, ProblemError } from '../../errors.js';
import { AgentEntity, type AgentRow } from '../../storage/agent-entities.js';
import type { Database, ReadManager } from '../../storage/database.js';
import type { ProjectRow } from '../../storage/entities.js';
import {
  WorkflowEdgeEntity,
  WorkflowEntity,
  WorkflowNodeEntity,
  type WorkflowEdgeRow,
  type WorkflowNodeRow,
  type WorkflowRow,
} from '../../storage/workflow-entities.js';
import type { Actor } from '../actor.js';
import type { AgentsService } from '../agents/agents.service.js';
import type { AuditLog } from '../audit/audit-log.js';
import { nodeConfig, type AgentUserIdentity, type AgentUsersService } from './agent-users.service.js';
import { recordWorkflowEvent } from './workflow-audit.js';
import { validateGraph } from './workflow-validation.js';
import type { WorkflowsService } from './workflows.service.js';

/** Enough for any graph a person draws; bounds the work of validation and of the editor. */
const MAX_NODES = 1000;
const MAX_EDGES = 5000;
/** What an agent user may change on its own node. */
const SELF_WRITABLE = ['system_prompt', 'extra_config'];
/** The Pipelit tool through which an agent calls the platform: wired to a node, it lets that node's agent user change it. */
const PLATFORM_API_TOOL = 'platform_api';

/**
 * Whether an admin wired the platform API to `node`, as Pipelit's graph does: a `tool` node whose
 * `config.tool` is `platform_api` with an edge into the node, or `platform_api` in the node's own
 * `config.tools`. That wiring is what grants self-modification; no scope is asked for besides.
 */
async function platformApiWired(tx: EntityManager, workflow: WorkflowRow, node: WorkflowNodeRow): Promise<boolean> {
  const tools = nodeConfig(node).tools;
  if (Array.isArray(tools) && tools.includes(PLATFORM_API_TOOL)) return true;
  const edges = await tx.findBy(WorkflowEdgeEntity, { workflow_id: workflow.id, target_node_id: node.id });
  if (edges.length === 0) return false;
  const sources = await tx.findBy(WorkflowNodeEntity, {
    workflow_id: workflow.id,
    id: In(edges.map((edge) => edge.source_node_id)),
    node_type: 'tool',
  });
  return sources.some((source) => nodeConfig(source).tool === PLATFORM_API_TOOL);
}

const invalid = (location: string, message: string) =>
  new ProblemError('validation_failed', message, { errors: [{ location, message }] });

const toEdge = (row: WorkflowEdgeRow): WorkflowEdge => ({
  id: row.id,
  source_node_id: row.source_node_id,
  target_node_id: row.target_node_id,
  edge_type: row.edge_type,
  condition: row.condition,
  created_at: row.created_at,
});

/**
 * The graph of one workflow (SPEC §5): nodes (`n1`…) and edges (`e1`…). Every change is one
 * write with its audit event; validation reports problems instead of refusing them, so a graph
 * can be drawn in any order.
 */
export class WorkflowGraphService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly agents: AgentsService,
    private readonly agentUsers: AgentUsersService,
    private readonly workflows: WorkflowsService,
  ) {}

  async graph(projectId: string, ref: string): Promise<WorkflowGraph> {
    const workflow = await this.workflows.find(projectId, ref);
    const [nodes, edges] = await Promise.all([
      this.db.manager.find(WorkflowNodeEntity, { where: { workflow_id: workflow.id } }),
      this.db.manager.find(WorkflowEdgeEntity, { where: { workflow_id: workflow.id } }),
    ]);
    return {
      nodes: await this.presentNodes(this.db.manager, sortById(nodes)),
      edges: sortById(edges).map(toEdge),
    };
  }

  async addNode(project: ProjectRow, ref: string, input: CreateNodeRequest, actor: Actor): Promise<WorkflowNode> {
    return this.db.write(async (tx) => {
      const workflow = await this.workflows.find(project.id, ref, tx);
      if ((await tx.countBy(WorkflowNodeEntity, { workflow_id: workflow.id })) >= MAX_NODES)
        throw conflict(`A workflow holds at most ${MAX_NODES} nodes.`);
      const agent = input.agent_id ? await this.agentFor(project, input.agent_id, tx) : null;
      const now = new Date().toISOString();
      const row: WorkflowNodeRow = {
        workflow_id: workflow.id,
        id: `n${workflow.next_node}`,
        node_type: input.node_type,
        agent_id: agent?.id ?? null,
        label: input.label?.trim() || null,
        position_x: input.position_x ?? 0,
        position_y: input.position_y ?? 0,
        config: JSON.stringify(input.config ?? {}),
        created_at: now,
        updated_at: now,
      };
      await tx.insert(WorkflowNodeEntity, row);
      await tx.update(WorkflowEntity, { id: workflow.id }, { next_node: workflow.next_node + 1, updated_at: now });
      await recordWorkflowEvent(this.audit, tx, 'workflow.node_added', workflow, actor, {
        node_id: row.id,
        node_type: row.node_type,
      });
      return this.presentNode(tx, row);
    });
  }

  async updateNode(
    project: ProjectRow,
    ref: string,
    nodeId: string,
    input: UpdateNodeRequest,
    actor: Actor,
  ): Promise<WorkflowNode> {
    return this.db.write(async (tx) => {
      const workflow = await this.workflows.find(project.id, ref, tx);
      const node = await this.findNode(tx, workflow, nodeId);
      const changes: Partial<WorkflowNodeRow> = { updated_at: new Date().toISOString() };
      if (input.agent_id !== undefined)
        changes.agent_id = input.agent_id === null ? null : (await this.agentFor(project, input.agent_id, tx)).id;
      if (input.label !== undefined) changes.label = input.label?.trim() || null;
      if (input.position_x !== undefined) changes.position_x = input.position_x;
      if (input.position_y !== undefined) changes.position_y = input.position_y;
      if (input.config !== undefined) changes.config = JSON.stringify(input.config);
      await tx.update(WorkflowNodeEntity, { workflow_id: workflow.id, id: node.id }, changes);
      await tx.update(WorkflowEntity, { id: workflow.id }, { updated_at: changes.updated_at });
      await recordWorkflowEvent(this.audit, tx, 'workflow.node_updated', workflow, actor, {
        node_id: node.id,
        fields: Object.keys(input),
      });
      return this.presentNode(tx, { ...node, ...changes });
    });
  }

  /** Deletes a node with every edge touching it, and the node's agent user (its key is revoked). */
  async deleteNode(
    project: ProjectRow,
    ref: string,
    nodeId: string,
    actor: Actor,
  ): Promise<{ deleted: string; deleted_edges: string[] }> {
    const { result, removed } = await this.db.write(async (tx) => {
      const workflow = await this.workflows.find(project.id, ref, tx);
      const node = await this.findNode(tx, workflow, nodeId);
      const edges = await tx.find(WorkflowEdgeEntity, {
        where: [
          { workflow_id: workflow.id, source_node_id: node.id },
          { workflow_id: workflow.id, target_node_id: node.id },
        ],
      });
      const deletedEdges = sortById(edges).map((edge) => edge.id);
      if (deletedEdges.length > 0)
        await tx.delete(WorkflowEdgeEntity, { workflow_id: workflow.id, id: In(deletedEdges) });
      const removed = await this.agentUsers.removeInWorkflow(tx, workflow, node.id, actor);
      await tx.delete(WorkflowNodeEntity, { workflow_id: workflow.id, id: node.id });
      await tx.update(WorkflowEntity, { id: workflow.id }, { updated_at: new Date().toISOString() });
      await recordWorkflowEvent(this.audit, tx, 'workflow.node_deleted', workflow, actor, {
        node_id: node.id,
        deleted_edges: deletedEdges,
      });
      return { result: { deleted: node.id, deleted_edges: deletedEdges }, removed };
    });
    await this.agentUsers.forgetSecrets(removed);
    return result;
  }

  /**
   * Adds an edge. Its ends may name nodes that are not (or no longer) in the graph — validation
   * reports those — but a conditional edge must say its condition.
   */
  async addEdge(project: ProjectRow, ref: string, input: CreateEdgeRequest, actor: Actor): Promise<WorkflowEdge> {
    const edgeType = input.edge_type ?? 'default';
    const condition = input.condition?.trim() || null;
    if (edgeType === 'conditional' && !condition)
      throw invalid('body.condition', 'A conditional edge needs its condition.');
    for (const end of ['source_node_id', 'target_node_id'] as const) {
      if (!/^n[1-9][0-9]{0,8}$/.test(input[end])) throw invalid(`body.${end}`, 'Node ids look like n1, n2…');
    }
    return this.db.write(async (tx) => {
      const workflow = await this.workflows.find(project.id, ref, tx);
      if ((await tx.countBy(WorkflowEdgeEntity, { workflow_id: workflow.id })) >= MAX_EDGES)
        throw conflict(`A workflow holds at most ${MAX_EDGES} edges.`);
      const now = new Date().toISOString();
      const row: WorkflowEdgeRow = {
        workflow_id: workflow.id,
        id: `e${workflow.next_edge}`,
        source_node_id: input.source_node_id,
        target_node_id: input.target_node_id,
        edge_type: edgeType,
        condition: edgeType === 'conditional' ? condition : null,
        created_at: now,
      };
      await tx.insert(WorkflowEdgeEntity, row);
      await tx.update(WorkflowEntity, { id: workflow.id }, { next_edge: workflow.next_edge + 1, updated_at: now });
      await recordWorkflowEvent(this.audit, tx, 'workflow.edge_added', workflow, actor, {
        edge_id: row.id,
        source_node_id: row.source_node_id,
        target_node_id: row.target_node_id,
        edge_type: row.edge_type,
      });
      return toEdge(row);
    });
  }

  async updateEdge(
    project: ProjectRow,
    ref: string,
    edgeId: string,
    input: UpdateEdgeRequest,
    actor: Actor,
  ): Promise<WorkflowEdge> {
    return this.db.write(async (tx) => {
      const workflow = await this.workflows.find(project.id, ref, tx);
      const edge = await tx.findOneBy(WorkflowEdgeEntity, { workflow_id: workflow.id, id: edgeId });
      if (!edge) throw notFound(`Edge "${edgeId}" of workflow "${workflow.name}"`);
      const edgeType = input.edge_type ?? edge.edge_type;
      const condition = input.condition === undefined ? edge.condition : input.condition?.trim() || null;
      if (edgeType === 'conditional' && !condition)
        throw invalid('body.condition', 'A conditional edge needs its condition.');
      const changes = { edge_type: edgeType, condition: edgeType === 'conditional' ? condition : null };
      await tx.update(WorkflowEdgeEntity, { workflow_id: workflow.id, id: edge.id }, changes);
      await tx.update(WorkflowEntity, { id: workflow.id }, { updated_at: new Date().toISOString() });
      await recordWorkflowEvent(this.audit, tx, 'workflow.edge_updated', workflow, actor, {
        edge_id: edge.id,
        edge_type: edgeType,
      });
      return toEdge({ ...edge, ...changes });
    });
  }

  async deleteEdge(project: ProjectRow, ref: string, edgeId: string, actor: Actor): Promise<{ deleted: string }> {
    return this.db.write(async (tx) => {
      const workflow = await this.workflows.find(project.id, ref, tx);
      const edge = await tx.findOneBy(WorkflowEdgeEntity, { workflow_id: workflow.id, id: edgeId });
      if (!edge) throw notFound(`Edge "${edgeId}" of workflow "${workflow.name}"`);
      await tx.delete(WorkflowEdgeEntity, { workflow_id: workflow.id, id: edge.id });
      await tx.update(WorkflowEntity, { id: workflow.id }, { updated_at: new Date().toISOString() });
      await recordWorkflowEvent(this.audit, tx, 'workflow.edge_deleted', workflow, actor, { edge_id: edge.id });
      return { deleted: edge.id };
    });
  }

  /**
   * An agent user changes its own node (SPEC §5) when the platform API is wired to that node:
   * `system_prompt` and `extra_config` only; any other field or node is refused with 403, naming
   * what was refused.
   */
  async selfUpdate(
    me: AgentUserIdentity,
    target: { slug: string; nodeId: string },
    changes: Record<string, unknown>,
    actor: Actor,
  ): Promise<WorkflowNode> {
    const refused = Object.keys(changes).filter((field) => !SELF_WRITABLE.includes(field));
    if (refused.length > 0)
      throw forbidden(`An agent user may change only system_prompt and extra_config; not ${refused.join(', ')}.`);
    if (target.slug !== me.workflow.slug || target.nodeId !== me.node.id)
      throw forbidden(`An agent user may change only its own node (${me.workflow.slug}/${me.node.id}).`);
    return this.db.write(async (tx) => {
      const workflow = await tx.findOneByOrFail(WorkflowEntity, { id: me.workflow.id });
      const node = await this.findNode(tx, workflow, me.node.id);
      if (!(await platformApiWired(tx, workflow, node)))
        throw forbidden(
          `Node ${me.workflow.slug}/${node.id} has no platform_api tool connected; an admin connects it to let its agent change the node.`,
        );
      const now = new Date().toISOString();
      const config = JSON.stringify({ ...nodeConfig(node), ...changes });
      await tx.update(WorkflowNodeEntity, { workflow_id: workflow.id, id: node.id }, { config, updated_at: now });
      await tx.update(WorkflowEntity, { id: workflow.id }, { updated_at: now });
      await this.audit.append(tx, {
        event_type: 'workflow.node_self_updated',
        actor,
        agent_id: me.link.agent_id,
        project_id: workflow.project_id,
        target: `workflow:${workflow.slug}`,
        metadata: { workflow_id: workflow.id, node_id: node.id, user: me.user.username, fields: Object.keys(changes) },
      });
      return this.presentNode(tx, { ...node, config, updated_at: now });
    });
  }

  async validate(projectId: string, ref: string): Promise<WorkflowValidation> {
    const { nodes, edges } = await this.graph(projectId, ref);
    const problems = validateGraph(nodes, edges);
    return { valid: problems.every((problem) => problem.severity !== 'error'), problems };
  }

  async findNode(tx: EntityManager, workflow: WorkflowRow, nodeId: string): Promise<WorkflowNodeRow> {
    const node = await tx.findOneBy(WorkflowNodeEntity, { workflow_id: workflow.id, id: nodeId });
    if (!node) throw notFound(`Node "${nodeId}" of workflow "${workflow.name}"`);
    return node;
  }

  async presentNode(tx: ReadManager, row: WorkflowNodeRow): Promise<WorkflowNode> {
    const [node] = await this.presentNodes(tx, [row]);
    return node!;
  }

  private async presentNodes(tx: ReadManager, rows: WorkflowNodeRow[]): Promise<WorkflowNode[]> {
    const agentIds = [...new Set(rows.flatMap((row) => (row.agent_id ? [row.agent_id] : [])))];
    const agents = new Map<string, AgentRow>(
      agentIds.length > 0 ? (await tx.findBy(AgentEntity, { id: In(agentIds) })).map((agent) => [agent.id, agent]) : [],
    );
    return rows.map((row) => {
      const agent = row.agent_id ? agents.get(row.agent_id) : undefined;
      return {
        id: row.id,
        node_type: row.node_type,
        agent_id: agent?.name ?? null,
        agent: agent ? { id: agent.id, name: agent.name, status: agent.status } : null,
        label: row.label,
        position_x: row.position_x,
        position_y: row.position_y,
        config: nodeConfig(row),
        created_at: row.created_at,
        updated_at: row.updated_at,
      };
    });
  }

  private agentFor(project: ProjectRow, ref: string, tx: EntityManager): Promise<AgentRow> {
    return this.agents.find(project.id, ref, tx).catch((error: unknown) => {
      if (error instanceof ProblemError && error.code === 'not_found')
        throw invalid('body.agent_id', `No agent "${ref}" in project "${project.slug}".`);
      throw error;
    });
  }
}

/** `n2` before `n10`. */
const sortById = <T extends { id: string }>(rows: T[]): T[] =>
  rows.sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1)));
