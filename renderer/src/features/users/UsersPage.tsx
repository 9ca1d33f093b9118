import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { UserRole } from '@gatehouse/shared';
import { call } from '../../api.js';
import { ErrorNote, formatTime, Loading, PlaintextOnceDialog, StatusBadge } from '../../ui/components.js';
import { ProjectsPanel } from '../projects/ProjectsPanel.js';
import { CreateUserDialog } from './CreateUserDialog.js';
import { userKeys, userQueries } from './queries.js';

/** People and projects (admins): users, their roles and tokens; projects and who may act in them. */
export function UsersPage(): React.JSX.Element {
  const client = useQueryClient();
  const users = useQuery(userQueries.list());
  const [creating, setCreating] = useState(false);
  const [token, setToken] = useState<{ username: string; secret: string } | null>(null);
  const update = useMutation({
    mutationFn: ({ id, body }: { id: string; body: { role?: UserRole; disabled?: boolean } }) =>
      call('updateUser', { params: { id }, body }),
    onSuccess: () => client.invalidateQueries({ queryKey: userKeys.all }),
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
      <ProjectsPanel />
    </section>
  );
}
