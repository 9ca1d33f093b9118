import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { call } from '../../api.js';
import { useProject } from '../../app/project.js';
import { ConfirmButton, ErrorNote, formatTime, Loading } from '../../ui/components.js';
import { workflowKeys, workflowQueries } from './queries.js';

/** The project's workflows: create, open, delete. */
export function WorkflowsPage(): React.JSX.Element {
  const projectId = useProject().id;
  const client = useQueryClient();
  const list = useQuery(workflowQueries.list(projectId));
  const [name, setName] = useState('');
  const change = useMutation({
    mutationFn: (run: () => Promise<unknown>) => run(),
    onSuccess: () => client.invalidateQueries({ queryKey: workflowKeys.project(projectId) }),
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
                    onConfirm={() =>
                      change.mutate(() => call('deleteWorkflow', { projectId, params: { name: workflow.slug } }))
                    }
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
