import { describe, expect, it } from 'vitest';
import { validateGraph, type GraphEdge, type GraphNode } from './workflow-validation.js';

const node = (id: string, node_type = 'tool'): GraphNode => ({ id, node_type, agent: null });
let edgeNumber = 0;
const edge = (source_node_id: string, target_node_id: string): GraphEdge => ({
  id: `e${++edgeNumber}`,
  source_node_id,
  target_node_id,
  edge_type: 'default',
  condition: null,
});
const kinds = (nodes: GraphNode[], edges: GraphEdge[]) => validateGraph(nodes, edges).map((p) => p.kind);

describe('validateGraph', () => {
  it('reports each loop of the graph on its own', () => {
    const problems = validateGraph(
      ['n1', 'n2', 'n3', 'n4', 'n5'].map((id) => node(id, id === 'n1' ? 'start' : 'tool')),
      [edge('n1', 'n2'), edge('n2', 'n3'), edge('n3', 'n2'), edge('n1', 'n4'), edge('n4', 'n5'), edge('n5', 'n4')],
    );
    const loops = problems.filter((p) => p.kind === 'cycle').map((p) => [...p.node_ids].sort());
    expect(loops).toEqual(
      expect.arrayContaining([
        ['n2', 'n3'],
        ['n4', 'n5'],
      ]),
    );
    expect(loops).toHaveLength(2);
  });

  it('starts from the nodes nothing leads to when there is no start node', () => {
    expect(kinds([node('n1'), node('n2')], [edge('n1', 'n2')])).toEqual([]);
    // A closed loop has no way in: both nodes are unreachable, and it is a loop.
    expect(kinds([node('n1'), node('n2')], [edge('n1', 'n2'), edge('n2', 'n1')])).toEqual([
      'unreachable_node',
      'cycle',
    ]);
  });

  it('does not let an edge to a missing node carry the flow', () => {
    const problems = validateGraph([node('n1', 'start'), node('n2')], [edge('n1', 'n7'), edge('n7', 'n2')]);
    expect(problems.map((p) => p.kind)).toEqual(['edge_missing_node', 'edge_missing_node', 'unreachable_node']);
    expect(problems[2]!.node_ids).toEqual(['n2']);
  });

  it('needs only agent nodes to have an active agent', () => {
    const suspended: GraphNode = { id: 'n2', node_type: 'agent', agent: { name: 'a', status: 'suspended' } };
    expect(kinds([node('n1', 'start'), suspended], [edge('n1', 'n2')])).toEqual(['agent_not_active']);
  });
});
