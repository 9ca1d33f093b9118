import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from '@tanstack/react-router';
import {
  applyNodeChanges,
  Background,
  Controls,
  Handle,
  Position,
  ReactFlow,
  type Connection,
  type Edge,
  type Node,
  type NodeChange,
  type NodePositionChange,
  type NodeProps,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { NodeType, WorkflowNode, WorkflowProblem } from '@gatehouse/shared';
import { call } from '../../api.js';
import { useProject } from '../../app/project.js';
import { ErrorNote, Loading } from '../../ui/components.js';
import { EdgePanel } from './EdgePanel.js';
import { NodePanel } from './NodePanel.js';
import { workflowKeys, workflowQueries } from './queries.js';

const NODE_TYPES: NodeType[] = ['start', 'agent', 'tool', 'approval', 'end'];
/** How long after the last move of a node its position is saved (arrow keys move it in steps). */
const MOVE_SAVE_DELAY_MS = 400;

type Severity = WorkflowProblem['severity'] | undefined;
type GraphNodeData = { node: WorkflowNode; severity: Severity };

/** A node as drawn: its type, label and agent, outlined by the worst problem validation found on it. */
function GatehouseNode({ data, selected }: NodeProps<Node<GraphNodeData>>): React.JSX.Element {
  const { node, severity } = data;
  return (
    <div
      className={`graph-node graph-node-${node.node_type}${severity ? ` problem-${severity}` : ''}${selected ? ' selected' : ''}`}
    >
      {node.node_type !== 'start' && <Handle type="target" position={Position.Top} />}
      <div className="muted small">
        {node.id} · {node.node_type}
      </div>
      <strong>{node.label ?? node.node_type}</strong>
      {node.node_type === 'agent' && <div className="small">{node.agent?.name ?? 'no agent'}</div>}
      {node.node_type !== 'end' && <Handle type="source" position={Position.Bottom} />}
    </div>
  );
}
const nodeTypes = { gatehouse: GatehouseNode };

const worst = (problems: WorkflowProblem[], match: (p: WorkflowProblem) => boolean): Severity =>
  problems.filter(match).some((p) => p.severity === 'error') ? 'error' : problems.some(match) ? 'warning' : undefined;

/** The graph editor: add, drag, connect, mark conditional, delete; problems drawn where they are. */
export function WorkflowEditorPage(): React.JSX.Element {
  const projectId = useProject().id;
  const { name } = useParams({ from: '/_project/workflows/$name' });
  const client = useQueryClient();
  const params = { name };
  const graph = useQuery(workflowQueries.graph(projectId, name));
  const validation = useQuery(workflowQueries.validation(projectId, name));
  const problems = useMemo(() => validation.data?.problems ?? [], [validation.data]);
  const [selected, setSelected] = useState<{ kind: 'node' | 'edge'; id: string } | null>(null);
  const [nodes, setNodes] = useState<Node<GraphNodeData>[]>([]);
  useEffect(() => {
    setNodes(
      (graph.data?.nodes ?? []).map((node) => ({
        id: node.id,
        type: 'gatehouse',
        position: { x: node.position_x, y: node.position_y },
        data: { node, severity: worst(problems, (p) => p.node_ids.includes(node.id)) },
        selected: selected?.kind === 'node' && selected.id === node.id,
      })),
    );
  }, [graph.data, problems, selected]);
  const edges: Edge[] = (graph.data?.edges ?? []).map((edge) => {
    const severity = worst(problems, (p) => p.edge_ids.includes(edge.id));
    return {
      id: edge.id,
      source: edge.source_node_id,
      target: edge.target_node_id,
      label: edge.edge_type === 'conditional' ? (edge.condition ?? 'condition?') : undefined,
      className: severity ? `problem-${severity}` : undefined,
      selected: selected?.kind === 'edge' && selected.id === edge.id,
      animated: edge.edge_type === 'conditional',
    };
  });
  // The graph, its validation and the list's counts all change with an edit.
  const refresh = () =>
    Promise.all([
      client.invalidateQueries({ queryKey: workflowKeys.detail(projectId, name) }),
      client.invalidateQueries({ queryKey: workflowKeys.lists(projectId) }),
    ]);
  const change = useMutation({ mutationFn: (run: () => Promise<unknown>) => run(), onSettled: refresh });

  // Where nodes came to rest (a drag ended, or arrow keys moved them), saved once the moving stops.
  const moved = useRef(new Map<string, { x: number; y: number }>());
  const saveTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const saveMoves = () => {
    const moves = [...moved.current];
    moved.current.clear();
    return Promise.all(
      moves.map(([id, { x, y }]) =>
        call('updateWorkflowNode', {
          projectId,
          params: { ...params, node_id: id },
          body: { position_x: Math.round(x), position_y: Math.round(y) },
        }),
      ),
    );
  };
  const onNodesChange = (changes: NodeChange<Node<GraphNodeData>>[]) => {
    setNodes((current) => applyNodeChanges(changes, current));
    const settled = changes.filter(
      (c): c is NodePositionChange => c.type === 'position' && c.dragging === false && c.position !== undefined,
    );
    if (settled.length === 0) return;
    for (const { id, position } of settled) moved.current.set(id, position!);
    clearTimeout(saveTimer.current);
    saveTimer.current = setTimeout(() => change.mutate(saveMoves), MOVE_SAVE_DELAY_MS);
  };
  // Leaving the editor with a move not yet saved: save it now.
  useEffect(
    () => () => {
      clearTimeout(saveTimer.current);
      if (moved.current.size > 0) void saveMoves();
    },
    [], // on unmount only
  );

  const addNode = (node_type: NodeType) => {
    const count = graph.data?.nodes.length ?? 0;
    change.mutate(() =>
      call('addWorkflowNode', {
        projectId,
        params,
        // Below the others (handles are on top and bottom), a little to the side of the last.
        body: { node_type, position_x: 200 + (count % 2) * 80, position_y: 40 + count * 110 },
      }),
    );
  };
  const onConnect = (connection: Connection) =>
    change.mutate(() =>
      call('addWorkflowEdge', {
        projectId,
        params,
        body: { source_node_id: connection.source, target_node_id: connection.target },
      }),
    );

  if (graph.isPending) return <Loading />;
  if (graph.isError) return <ErrorNote error={graph.error} />;
  const selectedNode = selected?.kind === 'node' ? graph.data.nodes.find((n) => n.id === selected.id) : undefined;
  const selectedEdge = selected?.kind === 'edge' ? graph.data.edges.find((e) => e.id === selected.id) : undefined;
  return (
    <section>
      <p>
        <Link to="/workflows">← Workflows</Link>
      </p>
      <div className="toolbar">
        <h1>{name}</h1>
        <span className="spacer" />
        {NODE_TYPES.map((type) => (
          <button key={type} onClick={() => addNode(type)} disabled={change.isPending}>
            + {type}
          </button>
        ))}
      </div>
      <ErrorNote error={change.error} />
      <ErrorNote error={validation.error} />
      {problems.length > 0 ? (
        <ul className="problems" aria-label="Validation problems">
          {problems.map((p, i) => (
            <li key={i} className={`problem-${p.severity}`}>
              {p.message}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted" role="status">
          {validation.isSuccess ? 'No problems found.' : validation.isError ? 'Not checked.' : 'Checking…'}
        </p>
      )}
      <div className="editor">
        <div className="canvas" aria-label="Workflow graph">
          <ReactFlow
            // A new node re-fits the view so it is never out of sight; a drag does not.
            key={graph.data.nodes.length}
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            onNodesChange={onNodesChange}
            onConnect={onConnect}
            onNodeClick={(_event, node) => setSelected({ kind: 'node', id: node.id })}
            onEdgeClick={(_event, edge) => setSelected({ kind: 'edge', id: edge.id })}
            onPaneClick={() => setSelected(null)}
            deleteKeyCode={null}
            fitView
            fitViewOptions={{ maxZoom: 1 }}
          >
            <Background />
            <Controls />
          </ReactFlow>
        </div>
        <aside className="panel side">
          {selectedNode ? (
            <NodePanel
              key={selectedNode.id + selectedNode.updated_at}
              projectId={projectId}
              workflow={name}
              node={selectedNode}
              onChanged={refresh}
              onDeleted={() => setSelected(null)}
            />
          ) : selectedEdge ? (
            <EdgePanel
              key={selectedEdge.id}
              projectId={projectId}
              workflow={name}
              edge={selectedEdge}
              onChanged={(stillThere) => {
                void refresh();
                if (!stillThere) setSelected(null);
              }}
            />
          ) : (
            <p className="muted">
              Select a node or an edge. Drag from a node’s lower handle to another’s upper handle to connect them.
            </p>
          )}
        </aside>
      </div>
    </section>
  );
}
