import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Agent } from '@gatehouse/shared';
import { call } from '../../api.js';
import { ConfirmButton, ErrorNote, formatTime, Loading } from '../../ui/components.js';
import { oauthKeys, oauthQueries } from './queries.js';
import { ClientCell } from './ClientCell.js';

/** The OAuth clients (MCP clients an admin approved) acting as this agent, each revocable. */
export function ConnectedClients({ projectId, agent }: { projectId: string; agent: Agent }): React.JSX.Element {
  const client = useQueryClient();
  const list = useQuery(oauthQueries.clients(projectId, agent.name));
  const revoke = useMutation({
    mutationFn: (clientId: string) =>
      call('revokeConnectedClient', { projectId, params: { name: agent.name, client_id: clientId } }),
    onSuccess: () => client.invalidateQueries({ queryKey: oauthKeys.clients(projectId, agent.name) }),
  });
  if (list.isPending) return <Loading />;
  if (list.isError) return <ErrorNote error={list.error} />;
  return (
    <div>
      <ErrorNote error={revoke.error} />
      {list.data.length === 0 ? (
        <p className="empty">No OAuth client acts as this agent. Clients appear here once you approve them.</p>
      ) : (
        <table aria-label="Connected clients">
          <thead>
            <tr>
              <th>Client</th>
              <th>Scopes</th>
              <th>Connected</th>
              <th>Until</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.data.map((c) => (
              <tr key={c.client_id}>
                <ClientCell client={c} />
                <td>{c.scopes.join(' ')}</td>
                <td>{formatTime(c.connected_at)}</td>
                <td>{formatTime(c.expires_at)}</td>
                <td>
                  <ConfirmButton
                    title={`Revoke ${c.client_name ?? c.client_id}?`}
                    description={`Its access and refresh tokens stop working now; to act as ${agent.name} again it must ask for your approval.`}
                    confirm="Revoke client"
                    onConfirm={() => revoke.mutate(c.client_id)}
                    disabled={revoke.isPending}
                    className="danger"
                  >
                    Revoke
                  </ConfirmButton>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
