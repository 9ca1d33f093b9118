import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
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
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import type { AgentUserCredentials, NodeType, WorkflowEdge, WorkflowNode, WorkflowProblem } from '@gatehouse/shared';
import { ApiError, call, keys, page } from '../api.js';
import { AgentPicker, ErrorNote, formatTime, Loading, PlaintextOnceDialog, type PickedAgent } from '../components.js';

const NODE_TYPES: NodeType[] = ['start', 'agent', 'tool', 'approval', 'end'];
/** How long after the last move of a node its position is saved (arrow keys move it in steps). */
const MOVE_SAVE_DELAY_MS = 400;

/** The project's workflows: create, open, delete. */
export function Workflows({ projectId }: { projectId: string }): React.JSX.Element {
  const client = useQueryClient();
  const list = useQuery({
    queryKey: keys.workflows(projectId),
    queryFn: () => page('listWorkflows', { projectId, query: { limit: 1000 } }),
  });
  const [name, setName] = useState('');
  const change = useMutation({
    mutationFn: (run: () => Promise<unknown>) => run(),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.workflows(projectId) }),
  });
  const create = (event: FormEvent) => {
    event.preventDefault();
    change.mutate(() => call('createWorkflow', { projectId, body: { name } }), { onSuccess: () => setName('') });
  };
  return (
    <section>
      <h1>Workflows</h1>
      <form className="toolbar" onSubmit={create}>
        <label>
          New workflow <input value={name} onChange={(e) => setName(e.target.value)} placeholder="approval-pipeline" />
        </label>
        <button className="primary" disabled={!name || change.isPending}>
          Create workflow
        </button>
      </form>
      <ErrorNote error={change.error} />
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorNote error={list.error} />
      ) : list.data.items.length === 0 ? (
        <p className="empty">No workflows yet.</p>
      ) : (
        <table aria-label="Workflows">
          <thead>
            <tr>
              <th>Name</th>
              <th>Nodes</th>
              <th>Edges</th>
              <th>Changed</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((workflow) => (
              <tr key={workflow.id}>
                <td>
                  <a href={`#/workflows/${encodeURIComponent(workflow.slug)}`}>{workflow.name}</a>
                </td>
                <td>{workflow.node_count}</td>
                <td>{workflow.edge_count}</td>
                <td>{formatTime(workflow.updated_at)}</td>
                <td>
                  <button
                    onClick={() => {
                      if (window.confirm(`Delete workflow ${workflow.name}, its graph and its agent users?`))
                        change.mutate(() => call('deleteWorkflow', { projectId, params: { name: workflow.slug } }));
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

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
export function WorkflowEditor({ projectId, name }: { projectId: string; name: string }): React.JSX.Element {
  const client = useQueryClient();
  const params = { name };
  const graph = useQuery({
    queryKey: keys.workflowGraph(projectId, name),
    queryFn: () => call('getWorkflowGraph', { projectId, params }),
  });
  const validation = useQuery({
    queryKey: keys.workflowValidation(projectId, name),
    queryFn: () => call('validateWorkflow', { projectId, params }),
  });
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
  const refresh = () => client.invalidateQueries({ queryKey: keys.workflow(projectId, name) });
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
        <a href="#/workflows">← Workflows</a>
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

function NodePanel(props: {
  projectId: string;
  workflow: string;
  node: WorkflowNode;
  onChanged: () => Promise<unknown>;
  onDeleted: () => void;
}): React.JSX.Element {
  const { projectId, node } = props;
  const params = { name: props.workflow, node_id: node.id };
  const [label, setLabel] = useState(node.label ?? '');
  const [agent, setAgent] = useState<PickedAgent | null>(node.agent);
  const [config, setConfig] = useState(JSON.stringify(node.config, null, 2));
  const [configError, setConfigError] = useState<string | null>(null);
  const [credentials, setCredentials] = useState<AgentUserCredentials | null>(null);
  const save = useMutation({
    mutationFn: (body: Parameters<typeof call<'updateWorkflowNode'>>[1]['body']) =>
      call('updateWorkflowNode', { projectId, params, body }),
    onSuccess: props.onChanged,
  });
  const remove = useMutation({
    mutationFn: () => call('deleteWorkflowNode', { projectId, params }),
    onSuccess: async () => {
      props.onDeleted();
      await props.onChanged();
    },
  });
  const provision = useMutation({
    mutationFn: () =>
      call('createAgentUser', { projectId, params: { slug: props.workflow, node_id: node.id }, body: {} }),
    onSuccess: setCredentials,
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(config || '{}') as Record<string, unknown>;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    } catch {
      return setConfigError('Config must be a JSON object.');
    }
    setConfigError(null);
    save.mutate({ label: label || null, agent_id: agent?.id ?? null, config: parsed });
  };
  return (
    <>
      <form className="form" onSubmit={onSubmit} aria-label={`Node ${node.id}`}>
        <h2>
          Node {node.id} <span className="muted small">{node.node_type}</span>
        </h2>
        <label>
          Label
          <input value={label} onChange={(e) => setLabel(e.target.value)} />
        </label>
        <AgentPicker projectId={projectId} label="Agent" noneLabel="None" value={agent} onChange={setAgent} />
        <label>
          Config (JSON)
          <textarea rows={5} value={config} onChange={(e) => setConfig(e.target.value)} aria-invalid={!!configError} />
        </label>
        {configError && <span className="field-error">{configError}</span>}
        <ErrorNote error={save.error ?? remove.error} />
        <div className="actions">
          <button
            type="button"
            onClick={() => {
              if (window.confirm(`Delete node ${node.id} and its edges?`)) remove.mutate();
            }}
          >
            Delete node
          </button>
          <button className="primary" disabled={save.isPending}>
            Save
          </button>
        </div>
        {node.node_type === 'agent' && (
          <>
            <h2>Agent user</h2>
            <p className="muted small">
              API credentials the node’s agent uses to call Gatehouse as agent_{props.workflow}_{node.id}.
            </p>
            <ErrorNote error={provision.error} />
            <button type="button" onClick={() => provision.mutate()} disabled={provision.isPending || !node.agent}>
              Provision agent user
            </button>
          </>
        )}
      </form>
      {credentials && (
        <PlaintextOnceDialog
          title={`Credentials of ${credentials.username}`}
          secret={credentials.api_key}
          keychain={credentials.keychain}
          note={`${
            credentials.already_existed
              ? 'This agent user already existed: the same key, read back from the OS keychain.'
              : 'A new agent user.'
          } API base URL ${credentials.api_base_url}.`}
          onClose={() => setCredentials(null)}
        />
      )}
    </>
  );
}

function EdgePanel(props: {
  projectId: string;
  workflow: string;
  edge: WorkflowEdge;
  onChanged: (stillThere: boolean) => void;
}): React.JSX.Element {
  const { projectId, edge } = props;
  const params = { name: props.workflow };
  const [conditional, setConditional] = useState(edge.edge_type === 'conditional');
  const [condition, setCondition] = useState(edge.condition ?? '');
  const save = useMutation({
    mutationFn: () =>
      call('updateWorkflowEdge', {
        projectId,
        params: { ...params, edge_id: edge.id },
        body: conditional ? { edge_type: 'conditional', condition } : { edge_type: 'default' },
      }),
    onSuccess: () => props.onChanged(true),
  });
  const remove = useMutation({
    mutationFn: () => call('deleteWorkflowEdge', { projectId, params: { ...params, edge_id: edge.id } }),
    onSuccess: () => props.onChanged(false),
  });
  const error = save.error instanceof ApiError ? save.error : null;
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <form className="form" onSubmit={onSubmit} aria-label={`Edge ${edge.id}`}>
      <h2>
        Edge {edge.id}{' '}
        <span className="muted small">
          {edge.source_node_id} → {edge.target_node_id}
        </span>
      </h2>
      <label className="check">
        <input type="checkbox" checked={conditional} onChange={(e) => setConditional(e.target.checked)} /> Conditional
      </label>
      {conditional && (
        <label>
          Condition
          <input
            value={condition}
            onChange={(e) => setCondition(e.target.value)}
            placeholder="output contains 'approved'"
          />
        </label>
      )}
      {error?.fieldError('condition') && <span className="field-error">{error.fieldError('condition')}</span>}
      <ErrorNote error={error} fields={['condition']} />
      <ErrorNote error={remove.error} />
      <div className="actions">
        <button
          type="button"
          onClick={() => {
            if (window.confirm(`Delete edge ${edge.id}?`)) remove.mutate();
          }}
        >
          Delete edge
        </button>
        <button className="primary" disabled={save.isPending}>
          Save
        </button>
      </div>
    </form>
  );
}
