import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { AgentUserCredentials, WorkflowNode } from '@gatehouse/shared';
import { call } from '../../api.js';
import { ConfirmButton, ErrorNote, PlaintextOnceDialog } from '../../ui/components.js';
import { AgentPicker, type PickedAgent } from '../agents/AgentPicker.js';

export function NodePanel(props: {
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
          <ConfirmButton
            title={`Delete node ${node.id}?`}
            description="The node and every edge to or from it are deleted from the workflow."
            confirm="Delete node"
            onConfirm={() => remove.mutate()}
          >
            Delete node
          </ConfirmButton>
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
