import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { Privilege, Project } from '@gatehouse/shared';
import { call } from '../../api.js';
import { ErrorNote, Loading } from '../../ui/components.js';
import { userQueries } from '../users/queries.js';
import { projectKeys, projectQueries } from './queries.js';

/** Projects and who may act in them (admins). */
export function ProjectsPanel(): React.JSX.Element {
  const client = useQueryClient();
  const projects = useQuery(projectQueries.list());
  const [name, setName] = useState('');
  const create = useMutation({
    mutationFn: () => call('createProject', { body: { name } }),
    onSuccess: async () => {
      setName('');
      await client.invalidateQueries({ queryKey: projectKeys.all });
    },
  });
  return (
    <>
      <h1 className="section">Projects</h1>
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <label>
          New project <input value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <button disabled={!name || create.isPending}>Create project</button>
        <ErrorNote error={create.error} />
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
