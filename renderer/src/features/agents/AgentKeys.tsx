import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { Agent, IssuedAgentKey } from '@gatehouse/shared';
import { call } from '../../api.js';
import {
  ConfirmButton,
  ErrorNote,
  formatTime,
  Loading,
  PlaintextOnceDialog,
  StatusBadge,
} from '../../ui/components.js';
import { CreateKeyDialog, RotateKeyDialog } from './KeyDialogs.js';
import { useAgentMutation } from './mutations.js';
import { agentQueries } from './queries.js';

export function AgentKeys({ projectId, agent }: { projectId: string; agent: Agent }): React.JSX.Element {
  const params = { name: agent.name };
  const list = useQuery(agentQueries.keys(projectId, agent.name));
  const [issued, setIssued] = useState<IssuedAgentKey | null>(null);
  const [creating, setCreating] = useState(false);
  const [rotating, setRotating] = useState<string | null>(null);
  const revoke = useAgentMutation(projectId, (keyId: string) =>
    call('revokeKey', { projectId, params: { ...params, key_id: keyId } }),
  );
  return (
    <div>
      <div className="toolbar">
        <span className="spacer" />
        <button className="primary" onClick={() => setCreating(true)} disabled={agent.status === 'revoked'}>
          Create key
        </button>
      </div>
      <ErrorNote error={revoke.error} />
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorNote error={list.error} />
      ) : list.data.length === 0 ? (
        <p className="empty">No keys. Create one to let the agent authenticate.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Label</th>
              <th>Key</th>
              <th>Scopes</th>
              <th>Expires</th>
              <th>Last used</th>
              <th>State</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.data.map((key) => (
              <tr key={key.id}>
                <td>{key.label ?? '—'}</td>
                <td>
                  <code>
                    agent_{key.prefix}_…{key.last_four}
                  </code>
                </td>
                <td>{key.scopes.join(', ') || 'all'}</td>
                <td>{key.expires_at ? formatTime(key.expires_at) : 'never'}</td>
                <td>{formatTime(key.last_used_at)}</td>
                <td>
                  <StatusBadge status={key.active ? 'active' : 'revoked'} />
                </td>
                <td>
                  {key.active && (
                    <div className="row-actions">
                      <button onClick={() => setRotating(key.id)}>Rotate</button>
                      <ConfirmButton
                        title={`Revoke key ${key.prefix}?`}
                        description="Agents using this key are refused at once. A revoked key cannot be restored."
                        confirm="Revoke key"
                        onConfirm={() => revoke.mutate(key.id)}
                      >
                        Revoke
                      </ConfirmButton>
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {creating && (
        <CreateKeyDialog
          projectId={projectId}
          agent={agent}
          onClose={() => setCreating(false)}
          onIssued={(key) => {
            setCreating(false);
            setIssued(key);
          }}
        />
      )}
      {rotating && (
        <RotateKeyDialog
          projectId={projectId}
          agent={agent}
          keyId={rotating}
          onClose={() => setRotating(null)}
          onIssued={(key) => {
            setRotating(null);
            setIssued(key);
          }}
        />
      )}
      {issued && (
        <PlaintextOnceDialog
          title="New API key"
          secret={issued.api_key}
          keychain={issued.keychain}
          onClose={() => setIssued(null)}
        />
      )}
    </div>
  );
}
