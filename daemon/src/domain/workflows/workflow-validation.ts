import type { WorkflowProblem } from '@gatehouse/shared';

export interface GraphNode {
  id: string;
  node_type: string;
  /** The bound agent as it is now: null when none is bound (or it was deleted). */
  agent: { name: string; status: string } | null;
}
export interface GraphEdge {
  id: string;
  source_node_id: string;
  target_node_id: string;
  edge_type: string;
  condition: string | null;
}

const problem = (
  kind: WorkflowProblem['kind'],
  message: string,
  at: { node_ids?: string[]; edge_ids?: string[] },
  severity: WorkflowProblem['severity'] = 'error',
): WorkflowProblem => ({ kind, severity, message, node_ids: at.node_ids ?? [], edge_ids: at.edge_ids ?? [] });

/**
 * Every problem of a workflow graph (SPEC §5), each pointing at the nodes and edges it concerns
 * so the console can draw it there. Cycles are warnings: loops are allowed, but worth seeing.
 */
export function validateGraph(nodes: GraphNode[], edges: GraphEdge[]): WorkflowProblem[] {
  const problems: WorkflowProblem[] = [];
  const ids = new Set(nodes.map((node) => node.id));

  for (const node of nodes) {
    if (node.node_type !== 'agent') continue;
    if (!node.agent) {
      problems.push(problem('agent_missing', `Node ${node.id} has no agent: bind one.`, { node_ids: [node.id] }));
    } else if (node.agent.status !== 'active') {
      problems.push(
        problem('agent_not_active', `Node ${node.id}: agent "${node.agent.name}" is ${node.agent.status}.`, {
          node_ids: [node.id],
        }),
      );
    }
  }

  for (const edge of edges) {
    const missing = [edge.source_node_id, edge.target_node_id].filter((id) => !ids.has(id));
    if (missing.length > 0) {
      problems.push(
        problem('edge_missing_node', `Edge ${edge.id} points at ${missing.join(' and ')}, which is not in the graph.`, {
          edge_ids: [edge.id],
          node_ids: [edge.source_node_id, edge.target_node_id].filter((id) => ids.has(id)),
        }),
      );
    }
    if (edge.edge_type === 'conditional' && !edge.condition?.trim()) {
      problems.push(
        problem('condition_missing', `Conditional edge ${edge.id} has no condition.`, { edge_ids: [edge.id] }),
      );
    }
  }

  // Only edges between existing nodes take part in the flow.
  const next = new Map<string, string[]>([...ids].map((id) => [id, []]));
  for (const edge of edges) {
    if (ids.has(edge.source_node_id) && ids.has(edge.target_node_id))
      next.get(edge.source_node_id)!.push(edge.target_node_id);
  }

  // The flow begins at the start nodes; a graph without one begins wherever nothing leads in.
  const starts = nodes.filter((node) => node.node_type === 'start').map((node) => node.id);
  const entered = new Set([...next.values()].flat());
  const roots = starts.length > 0 ? starts : [...ids].filter((id) => !entered.has(id));
  const reached = new Set<string>();
  const queue = [...roots];
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    if (reached.has(id)) continue;
    reached.add(id);
    queue.push(...next.get(id)!);
  }
  const unreachable = nodes.filter((node) => !reached.has(node.id)).map((node) => node.id);
  if (unreachable.length > 0) {
    problems.push(
      problem(
        'unreachable_node',
        `${unreachable.length === 1 ? 'Node' : 'Nodes'} ${unreachable.join(', ')} cannot be reached from ${starts.length > 0 ? 'a start node' : 'the entry nodes'}.`,
        { node_ids: unreachable },
      ),
    );
  }

  for (const cycle of cycles(next)) {
    const members = new Set(cycle);
    const cycleEdges = edges
      .filter((edge) => members.has(edge.source_node_id) && members.has(edge.target_node_id))
      .map((edge) => edge.id);
    problems.push(
      problem('cycle', `Nodes ${cycle.join(' → ')} form a loop.`, { node_ids: cycle, edge_ids: cycleEdges }, 'warning'),
    );
  }
  return problems;
}

/** The strongly connected components that loop (Tarjan): more than one node, or a node with an edge to itself. */
function cycles(next: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;

  const visit = (id: string): void => {
    index.set(id, counter);
    low.set(id, counter);
    counter += 1;
    stack.push(id);
    onStack.add(id);
    for (const to of next.get(id)!) {
      if (!index.has(to)) {
        visit(to);
        low.set(id, Math.min(low.get(id)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(id, Math.min(low.get(id)!, index.get(to)!));
      }
    }
    if (low.get(id) !== index.get(id)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== id);
    if (component.length > 1 || next.get(id)!.includes(id)) found.push(component.reverse());
  };

  for (const id of next.keys()) if (!index.has(id)) visit(id);
  return found;
}
