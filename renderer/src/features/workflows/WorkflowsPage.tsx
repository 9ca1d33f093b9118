import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useForm } from 'react-hook-form';
import { CreateWorkflowRequest } from '@gatehouse/shared';
import { call } from '../../api.js';
import { useProject } from '../../app/project.js';
import { ConfirmButton, ErrorNote, FieldError, formatTime, Loading } from '../../ui/components.js';
import { contractResolver, showProblemOnFields } from '../../ui/forms.js';
import { useWorkflowsChange } from './mutations.js';
import { workflowQueries } from './queries.js';

/** The project's workflows: create, open, delete. */
export function WorkflowsPage(): React.JSX.Element {
  const projectId = useProject().id;
  const list = useQuery(workflowQueries.list(projectId));
  const create = useWorkflowsChange(projectId, (body: CreateWorkflowRequest) =>
    call('createWorkflow', { projectId, body }),
  );
  const remove = useWorkflowsChange(projectId, (slug: string) =>
    call('deleteWorkflow', { projectId, params: { name: slug } }),
  );
  const form = useForm<CreateWorkflowRequest>({
    defaultValues: { name: '' },
    resolver: contractResolver(CreateWorkflowRequest, (values: CreateWorkflowRequest) => values),
  });
  const onSubmit = form.handleSubmit((body) =>
    create.mutate(body, {
      onSuccess: () => form.reset(),
      onError: (error) => showProblemOnFields(error, ['name'], form.setError),
    }),
  );
  return (
    <section>
      <h1>Workflows</h1>
      <form className="toolbar" onSubmit={(event) => void onSubmit(event)} noValidate>
        <label>
          New workflow{' '}
          <input
            {...form.register('name')}
            placeholder="approval-pipeline"
            aria-invalid={!!form.formState.errors.name}
          />
        </label>
        <button className="primary" disabled={!form.watch('name') || create.isPending}>
          Create workflow
        </button>
      </form>
      <FieldError error={form.formState.errors.name} />
      <ErrorNote error={create.error} fields={['name']} />
      <ErrorNote error={remove.error} />
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
                  <Link to="/workflows/$name" params={{ name: workflow.slug }}>
                    {workflow.name}
                  </Link>
                </td>
                <td>{workflow.node_count}</td>
                <td>{workflow.edge_count}</td>
                <td>{formatTime(workflow.updated_at)}</td>
                <td>
                  <ConfirmButton
                    title={`Delete workflow ${workflow.name}?`}
                    description="The workflow, its graph and its agent users are deleted; the agent users' keys stop working."
                    confirm="Delete workflow"
                    onConfirm={() => remove.mutate(workflow.slug)}
                  >
                    Delete
                  </ConfirmButton>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
