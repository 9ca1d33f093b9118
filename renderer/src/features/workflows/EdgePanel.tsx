import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { WorkflowEdge } from '@gatehouse/shared';
import { ApiError, call } from '../../api.js';
import { ConfirmButton, ErrorNote } from '../../ui/components.js';

export function EdgePanel(props: {
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
        <ConfirmButton
          title={`Delete edge ${edge.id}?`}
          description={`The connection from ${edge.source_node_id} to ${edge.target_node_id} is deleted.`}
          confirm="Delete edge"
          onConfirm={() => remove.mutate()}
        >
          Delete edge
        </ConfirmButton>
        <button className="primary" disabled={save.isPending}>
          Save
        </button>
      </div>
    </form>
  );
}
