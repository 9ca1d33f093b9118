import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { Agent } from '@gatehouse/shared';
import { call } from '../../api.js';
import { useSignedInUser } from '../../app/Root.js';
import { ErrorNote, Loading } from '../../ui/components.js';
import { roleQueries, toolQueries } from '../tools/queries.js';
import { useAgentMutation } from './mutations.js';
import { agentQueries } from './queries.js';

/**
 * What an agent may do: granted tools (`*` = every tool the signed-in admin may grant), tools that
 * need a human's approval (a super_admin's call), capability roles, and the effective result.
 * Every change bumps the agent's permissions_version, which ends its older tokens.
 */
export function AgentPermissions({ projectId, agent }: { projectId: string; agent: Agent }): React.JSX.Element {
  const params = { name: agent.name };
  const superAdmin = useSignedInUser().role === 'super_admin';
  const permissions = useQuery(agentQueries.permissions(projectId, agent.name));
  const tools = useQuery(toolQueries.list());
  const roles = useQuery(roleQueries.list());
  const [tool, setTool] = useState('*');
  const [role, setRole] = useState('');
  const change = useAgentMutation(projectId, (run: () => Promise<unknown>) => run());
  if (permissions.isPending) return <Loading />;
  if (permissions.isError) return <ErrorNote error={permissions.error} />;
  const p = permissions.data;
  const toggleApproval = (name: string, on: boolean) =>
    change.mutate(() =>
      call('setApprovalRequiredTools', {
        projectId,
        params,
        body: {
          tools: on ? [...p.approval_required_tools, name] : p.approval_required_tools.filter((t) => t !== name),
        },
      }),
    );
  return (
    <div className="form">
      <dl className="facts">
        <div>
          <dt>Permissions version</dt>
          <dd>{p.permissions_version}</dd>
        </div>
        <div>
          <dt>Effective tools</dt>
          <dd data-testid="effective-tools">{p.effective_tools.join(', ') || 'none (deny by default)'}</dd>
        </div>
      </dl>
      <ErrorNote error={change.error} />

      <h2>Granted tools</h2>
      {p.allowed_tools.length === 0 ? (
        <p className="muted">No tools granted.</p>
      ) : (
        <table aria-label="Granted tools">
          <tbody>
            {p.allowed_tools.map((name) => (
              <tr key={name}>
                <td>
                  <code>{name}</code>
                </td>
                <td>
                  <label className="check">
                    <input
                      type="checkbox"
                      checked={p.approval_required_tools.includes(name)}
                      disabled={!superAdmin || change.isPending}
                      onChange={(e) => toggleApproval(name, e.target.checked)}
                    />{' '}
                    needs approval
                  </label>
                </td>
                <td>
                  <button
                    onClick={() =>
                      change.mutate(() => call('revokeTools', { projectId, params, body: { tools: [name] } }))
                    }
                  >
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {!superAdmin && <p className="muted small">Only a super_admin can choose which tools need approval.</p>}
      <div className="toolbar">
        <label>
          Grant{' '}
          <select value={tool} onChange={(e) => setTool(e.target.value)} aria-label="Tool to grant">
            <option value="*">* (every tool you may grant)</option>
            {tools.data?.map((t) => (
              <option key={t.name} value={t.name}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
        <button onClick={() => change.mutate(() => call('grantTools', { projectId, params, body: { tools: [tool] } }))}>
          Grant
        </button>
      </div>
      <ErrorNote error={tools.error} />

      <h2>Roles</h2>
      {p.roles.length === 0 ? (
        <p className="muted">No roles.</p>
      ) : (
        <ul>
          {p.roles.map((r) => (
            <li key={r.name}>
              <strong>{r.name}</strong> <span className="muted">({r.tools.join(', ') || 'no tools'})</span>{' '}
              <button
                onClick={() =>
                  change.mutate(() => call('removeRole', { projectId, params: { ...params, role: r.name } }))
                }
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="toolbar">
        <label>
          Role{' '}
          <select value={role} onChange={(e) => setRole(e.target.value)}>
            <option value="">Choose…</option>
            {roles.data
              ?.filter((r) => !p.roles.some((held) => held.name === r.name))
              .map((r) => (
                <option key={r.name} value={r.name}>
                  {r.name}
                </option>
              ))}
          </select>
        </label>
        <button
          disabled={!role}
          onClick={() => change.mutate(() => call('assignRole', { projectId, params, body: { role } }))}
        >
          Assign
        </button>
      </div>
      <ErrorNote error={roles.error} />
    </div>
  );
}
