import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { CreateProjectRequest, type Privilege, type Project } from '@gatehouse/shared';
import { call } from '../../api.js';
import { ErrorNote, FieldError, Loading } from '../../ui/components.js';
import { contractResolver, showProblemOnFields } from '../../ui/forms.js';
import { userQueries } from '../users/queries.js';
import { projectKeys, projectQueries } from './queries.js';

/** Projects and who may act in them (admins). */
export function ProjectsPanel(): React.JSX.Element {
  const client = useQueryClient();
  const projects = useQuery(projectQueries.list());
  const create = useMutation({
    mutationFn: (body: CreateProjectRequest) => call('createProject', { body }),
    onSuccess: () => client.invalidateQueries({ queryKey: projectKeys.all }),
  });
  const form = useForm<CreateProjectRequest>({
    defaultValues: { name: '' },
    resolver: contractResolver(CreateProjectRequest, (values: CreateProjectRequest) => values),
  });
  const onSubmit = form.handleSubmit((body) =>
    create.mutate(body, {
      onSuccess: () => form.reset(),
      onError: (error) => showProblemOnFields(error, ['name'], form.setError),
    }),
  );
  return (
    <>
      <h1 className="section">Projects</h1>
      <form className="toolbar" onSubmit={(event) => void onSubmit(event)} noValidate>
        <label>
          New project <input {...form.register('name')} aria-invalid={!!form.formState.errors.name} />
        </label>
        <button disabled={!form.watch('name') || create.isPending}>Create project</button>
        <FieldError error={form.formState.errors.name} />
        <ErrorNote error={create.error} fields={['name']} />
      </form>
      {projects.isPending ? (
        <Loading />
      ) : projects.isError ? (
        <ErrorNote error={projects.error} />
      ) : (
        projects.data.map((project) => <Members key={project.id} project={project} />)
      )}
    </>
  );
}

function Members({ project }: { project: Project }): React.JSX.Element {
  const client = useQueryClient();
  const members = useQuery(projectQueries.members(project.id));
  const users = useQuery(userQueries.list()).data;
  const [userId, setUserId] = useState('');
  const [privilege, setPrivilege] = useState<Privilege>(2);
  const set = useMutation({
    mutationFn: (member: { user_id: string; privilege: Privilege }) =>
      call('setMember', { params: { id: project.id, user_id: member.user_id }, body: { privilege: member.privilege } }),
    onSuccess: () => client.invalidateQueries({ queryKey: projectKeys.members(project.id) }),
  });
  const remove = useMutation({
    mutationFn: (memberId: string) => call('removeMember', { params: { id: project.id, user_id: memberId } }),
    onSuccess: () => client.invalidateQueries({ queryKey: projectKeys.members(project.id) }),
  });
  return (
    <div className="panel">
      <h2>
        {project.name} <span className="muted small">/{project.slug}</span>
      </h2>
      <ErrorNote error={members.error ?? set.error ?? remove.error} />
      {members.isPending && <Loading />}
      {members.data && members.data.length === 0 && <p className="muted">No members (super_admins act everywhere).</p>}
      <ul>
        {members.data?.map((m) => (
          <li key={m.user_id}>
            {m.username} — {m.privilege === 1 ? 'admin' : 'member'}{' '}
            <button onClick={() => remove.mutate(m.user_id)}>Remove</button>
          </li>
        ))}
      </ul>
      <div className="toolbar">
        <select
          aria-label={`User to add to ${project.name}`}
          value={userId}
          onChange={(e) => setUserId(e.target.value)}
        >
          <option value="">Add a user…</option>
          {users?.items
            .filter((u) => u.kind === 'human')
            .map((u) => (
              <option key={u.id} value={u.id}>
                {u.username}
              </option>
            ))}
        </select>
        <select
          aria-label={`Privilege in ${project.name}`}
          value={privilege}
          onChange={(e) => setPrivilege(Number(e.target.value) as Privilege)}
        >
          <option value={2}>member</option>
          <option value={1}>admin</option>
        </select>
        <button
          aria-label={`Add to ${project.name}`}
          disabled={!userId}
          onClick={() => set.mutate({ user_id: userId, privilege })}
        >
          Add
        </button>
      </div>
    </div>
  );
}
