import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { Privilege, Project, UserRole } from '@gatehouse/shared';
import { ApiError, call, keys, page, WHOLE } from '../api.js';
import {
  Dialog,
  ErrorNote,
  formatTime,
  Loading,
  PlaintextOnceDialog,
  StatusBadge,
  FormActions,
} from '../components.js';

/** People and projects (admins): users, their roles and tokens; projects and who may act in them. */
export function Users(): React.JSX.Element {
  const client = useQueryClient();
  const users = useQuery({ queryKey: keys.users, queryFn: () => page('listUsers', { query: { limit: 1000 } }) });
  const [creating, setCreating] = useState(false);
  const [token, setToken] = useState<{ username: string; secret: string } | null>(null);
  const update = useMutation({
    mutationFn: ({ id, body }: { id: string; body: { role?: UserRole; disabled?: boolean } }) =>
      call('updateUser', { params: { id }, body }),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.users }),
  });
  const issue = useMutation({
    mutationFn: ({ id }: { id: string; username: string }) =>
      call('createPersonalToken', { params: { id }, body: { label: 'console' } }),
    onSuccess: (created, { username }) => setToken({ username, secret: created.token }),
  });
  return (
    <section>
      <div className="toolbar">
        <h1>Users</h1>
        <span className="spacer" />
        <button className="primary" onClick={() => setCreating(true)}>
          Create user
        </button>
      </div>
      <ErrorNote error={update.error ?? issue.error} />
      {users.isPending ? (
        <Loading />
      ) : users.isError ? (
        <ErrorNote error={users.error} />
      ) : (
        <table aria-label="Users">
          <thead>
            <tr>
              <th>Username</th>
              <th>Kind</th>
              <th>Role</th>
              <th>Two-factor</th>
              <th>State</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {users.data.items.map((user) => (
              <tr key={user.id}>
                <td>
                  {user.username}
                  {user.first_name && <div className="muted small">{user.first_name}</div>}
                </td>
                <td>{user.kind === 'agent' ? 'agent user' : 'person'}</td>
                <td>
                  <select
                    aria-label={`Role of ${user.username}`}
                    value={user.role}
                    disabled={user.kind === 'agent'}
                    onChange={(e) => update.mutate({ id: user.id, body: { role: e.target.value as UserRole } })}
                  >
                    <option value="viewer">viewer</option>
                    <option value="admin">admin</option>
                    <option value="super_admin">super_admin</option>
                  </select>
                </td>
                <td>{user.mfa_enabled ? 'on' : 'off'}</td>
                <td>
                  <StatusBadge status={user.disabled ? 'suspended' : 'active'} />
                </td>
                <td>{formatTime(user.created_at)}</td>
                <td>
                  {user.kind === 'human' && (
                    <div className="row-actions">
                      <button onClick={() => update.mutate({ id: user.id, body: { disabled: !user.disabled } })}>
                        {user.disabled ? 'Enable' : 'Disable'}
                      </button>
                      <button onClick={() => issue.mutate({ id: user.id, username: user.username })}>
                        New API token
                      </button>
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {creating && <CreateUserDialog onClose={() => setCreating(false)} />}
      {token && (
        <PlaintextOnceDialog
          title={`API token for ${token.username}`}
          secret={token.secret}
          keychain={null}
          onClose={() => setToken(null)}
        />
      )}
      <Projects />
    </section>
  );
}

function CreateUserDialog({ onClose }: { onClose: () => void }): React.JSX.Element {
  const client = useQueryClient();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<UserRole>('viewer');
  const create = useMutation({
    mutationFn: () => call('createUser', { body: { username, password, role } }),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: keys.users });
      onClose();
    },
  });
  const error = create.error instanceof ApiError ? create.error : null;
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <Dialog title="Create user" onClose={onClose}>
      <form className="form" onSubmit={onSubmit}>
        <label>
          Username
          <input value={username} onChange={(e) => setUsername(e.target.value)} />
        </label>
        {error?.fieldError('username') && <span className="field-error">{error.fieldError('username')}</span>}
        <label>
          Password
          <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        {error?.fieldError('password') && <span className="field-error">{error.fieldError('password')}</span>}
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value as UserRole)}>
            <option value="viewer">viewer</option>
            <option value="admin">admin</option>
            <option value="super_admin">super_admin</option>
          </select>
        </label>
        <ErrorNote error={error} fields={['username', 'password']} />
        <FormActions submit="Create" busy={create.isPending} onCancel={onClose} />
      </form>
    </Dialog>
  );
}

function Projects(): React.JSX.Element {
  const client = useQueryClient();
  const projects = useQuery({ queryKey: keys.projects, queryFn: () => call('listProjects', { query: WHOLE }) });
  const [name, setName] = useState('');
  const create = useMutation({
    mutationFn: () => call('createProject', { body: { name } }),
    onSuccess: async () => {
      setName('');
      await client.invalidateQueries({ queryKey: keys.projects });
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
  const members = useQuery({
    queryKey: keys.members(project.id),
    queryFn: () => call('listMembers', { params: { id: project.id }, query: WHOLE }),
  });
  const users = client.getQueryData<{ items: Array<{ id: string; username: string; kind: string }> }>(keys.users);
  const [userId, setUserId] = useState('');
  const [privilege, setPrivilege] = useState<Privilege>(2);
  const set = useMutation({
    mutationFn: (member: { user_id: string; privilege: Privilege }) =>
      call('setMember', { params: { id: project.id, user_id: member.user_id }, body: { privilege: member.privilege } }),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.members(project.id) }),
  });
  const remove = useMutation({
    mutationFn: (memberId: string) => call('removeMember', { params: { id: project.id, user_id: memberId } }),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.members(project.id) }),
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
