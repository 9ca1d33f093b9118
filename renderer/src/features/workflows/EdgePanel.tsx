import { useMutation } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { UpdateEdgeRequest, type WorkflowEdge } from '@gatehouse/shared';
import { call } from '../../api.js';
import { ConfirmButton, ErrorNote, FieldError } from '../../ui/components.js';
import { contractResolver, showProblemOnFields } from '../../ui/forms.js';

interface EdgeForm {
  conditional: boolean;
  condition: string;
}
const toBody = ({ conditional, condition }: EdgeForm): UpdateEdgeRequest =>
  conditional ? { edge_type: 'conditional', condition } : { edge_type: 'default' };

/** One edge: plain, or conditional with its condition; delete. */
export function EdgePanel(props: {
  projectId: string;
  workflow: string;
  edge: WorkflowEdge;
  onChanged: (stillThere: boolean) => void;
}): React.JSX.Element {
  const { projectId, edge } = props;
  const params = { name: props.workflow, edge_id: edge.id };
  const form = useForm<EdgeForm, unknown, UpdateEdgeRequest>({
    defaultValues: { conditional: edge.edge_type === 'conditional', condition: edge.condition ?? '' },
    resolver: contractResolver(UpdateEdgeRequest, toBody),
  });
  const save = useMutation({
    mutationFn: (body: UpdateEdgeRequest) => call('updateWorkflowEdge', { projectId, params, body }),
    onSuccess: () => props.onChanged(true),
  });
  const remove = useMutation({
    mutationFn: () => call('deleteWorkflowEdge', { projectId, params }),
    onSuccess: () => props.onChanged(false),
  });
  const onSubmit = form.handleSubmit((body) =>
    save.mutate(body, { onError: (error) => showProblemOnFields(error, ['condition'], form.setError) }),
  );
  const conditional = form.watch('conditional');
  return (
    <form className="form" onSubmit={(event) => void onSubmit(event)} aria-label={`Edge ${edge.id}`} noValidate>
      <h2>
        Edge {edge.id}{' '}
        <span className="muted small">
          {edge.source_node_id} → {edge.target_node_id}
        </span>
      </h2>
      <label className="check">
        <input type="checkbox" {...form.register('conditional')} /> Conditional
      </label>
      {conditional && (
        <label>
          Condition
          <input
            {...form.register('condition')}
            placeholder="output contains 'approved'"
            aria-invalid={!!form.formState.errors.condition}
          />
        </label>
      )}
      <FieldError error={form.formState.errors.condition} />
      <ErrorNote error={save.error} fields={['condition']} />
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
