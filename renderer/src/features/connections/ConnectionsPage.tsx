import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { Connection } from '@gatehouse/shared';
import { call } from '../../api.js';
import { useProject } from '../../app/project.js';
import { ConfirmButton, Dialog, ErrorNote, formatTime, Loading } from '../../ui/components.js';
import { AgentPicker, type PickedAgent } from '../agents/AgentPicker.js';
import { AddConnectionDialog } from './AddConnectionDialog.js';
import { useConnectionChange } from './mutations.js';
import { connectionQueries } from './queries.js';

const injectionOf = (connection: Connection) =>
  connection.injection.kind === 'header'
    ? `${connection.injection.name}: ${connection.injection.template}`
    : `?${connection.injection.name}={secret}`;

/**
 * The project's brokered connections (SPEC §11): upstreams an agent calls through
 * `/proxy/<name>/…` without ever holding their secret. Never shows a secret: the daemon has none to
 * give, they live in the OS keychain.
 */
export function ConnectionsPage(): React.JSX.Element {
  const projectId = useProject().id;
  const connections = useQuery(connectionQueries.list(projectId));
  const [adding, setAdding] = useState(false);
  const [granting, setGranting] = useState<Connection | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [consent, setConsent] = useState<{ connection: string; url: string } | null>(null);
  const remove = useConnectionChange(projectId, (name: string) =>
    call('deleteConnection', { projectId, params: { connection: name } }),
  );
  const startOAuth = useConnectionChange(projectId, (name: string) =>
    call('startConnectionOAuth', { projectId, params: { connection: name } }),
  );
  const disconnect = useConnectionChange(projectId, (name: string) =>
    call('revokeConnectionOAuth', { projectId, params: { connection: name } }),
  );
  return (
    <section>
      <div className="toolbar">
        <h1>Connections</h1>
        <span className="spacer" />
        <button className="primary" onClick={() => setAdding(true)}>
          Add connection
        </button>
      </div>
      <p className="muted">
        An agent granted a connection calls <code>/proxy/&lt;name&gt;/…</code> with its own credential; the broker puts
        the upstream&apos;s secret on the request. The secret stays in the OS keychain.
      </p>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <ErrorNote error={remove.error ?? startOAuth.error ?? disconnect.error} />
      {connections.isPending ? (
        <Loading />
      ) : connections.isError ? (
        <ErrorNote error={connections.error} />
      ) : connections.data.length === 0 ? (
        <p className="empty">No connections yet.</p>
      ) : (
        <table aria-label="Connections">
          <thead>
            <tr>
              <th>Name</th>
              <th>Upstream</th>
              <th>Credential</th>
              <th>Allowed</th>
              <th>Added</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {connections.data.map((connection) => (
              <tr key={connection.id}>
                <td>
                  <strong>{connection.name}</strong>
                  {connection.description && <div className="muted small">{connection.description}</div>}
                  <div className="muted small">
                    granted as <code>{connection.tool}</code>
                  </div>
                </td>
                <td>
                  <code>{connection.base_url}</code>
                </td>
                <td>
                  <code>{injectionOf(connection)}</code>
                  <div className="muted small">
                    {connection.oauth
                      ? connection.oauth.connected_at
                        ? `OAuth account connected ${formatTime(connection.oauth.connected_at)}`
                        : 'OAuth: no account connected yet'
                      : 'secret in the OS keychain'}
                  </div>
                </td>
                <td>
                  {connection.allowed_methods.join(', ') || 'every method'}
                  <div className="muted small">{connection.allowed_paths.join(', ') || 'every path'}</div>
                </td>
                <td>{formatTime(connection.created_at)}</td>
                <td>
                  <div className="row-actions">
                    {connection.oauth && (
                      <button
                        disabled={startOAuth.isPending}
                        onClick={() =>
                          startOAuth.mutate(connection.name, {
                            onSuccess: (started) =>
                              setConsent({ connection: connection.name, url: started.authorization_url }),
                          })
                        }
                      >
                        {connection.oauth.connected_at ? 'Reconnect account' : 'Connect account'}
                      </button>
                    )}
                    {connection.oauth?.connected_at && (
                      <ConfirmButton
                        title={`Disconnect the account of ${connection.name}?`}
                        description="Its refresh token is revoked at the provider and deleted from the keychain; calls through the broker fail until an account is connected again."
                        confirm="Disconnect account"
                        onConfirm={() => disconnect.mutate(connection.name)}
                      >
                        Disconnect
                      </ConfirmButton>
                    )}
                    <button onClick={() => setGranting(connection)}>Grant to agent</button>
                    <ConfirmButton
                      title={`Remove ${connection.name}?`}
                      description="Its secret is deleted from the keychain and every agent granted it is refused from its next call."
                      confirm="Remove connection"
                      className="danger"
                      onConfirm={() => {
                        setNotice(null);
                        remove.mutate(connection.name);
                      }}
                    >
                      Remove
                    </ConfirmButton>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {adding && (
        <AddConnectionDialog
          projectId={projectId}
          onClose={() => setAdding(false)}
          onAdded={(connection) => {
            setAdding(false);
            setNotice(`Added ${connection.name}. Its secret is in the OS keychain and will not be shown again.`);
          }}
        />
      )}
      {consent && (
        <Dialog title={`Connect an account to ${consent.connection}`} onClose={() => setConsent(null)}>
          <p>
            Open this address in a browser and consent there. The provider sends the browser back to this daemon, which
            keeps the refresh token in the OS keychain; this list shows the account once it is connected.
          </p>
          <p>
            <a href={consent.url} target="_blank" rel="noreferrer" className="break">
              {consent.url}
            </a>
          </p>
          <p className="muted small">The address works once, for 10 minutes.</p>
          <div className="actions">
            <button type="button" onClick={() => void navigator.clipboard.writeText(consent.url)}>
              Copy address
            </button>
            <button type="button" className="primary" onClick={() => setConsent(null)}>
              Done
            </button>
          </div>
        </Dialog>
      )}
      {granting && (
        <GrantDialog
          projectId={projectId}
          connection={granting}
          onClose={() => setGranting(null)}
          onGranted={(agent) => {
            setGranting(null);
            setNotice(`${agent} may now call ${granting.name} through the broker.`);
          }}
        />
      )}
    </section>
  );
}

/** Grants the connection's tool to one agent, as the agent's Permissions tab would. */
function GrantDialog(props: {
  projectId: string;
  connection: Connection;
  onClose: () => void;
  onGranted: (agent: string) => void;
}): React.JSX.Element {
  const [agent, setAgent] = useState<PickedAgent | null>(null);
  const grant = useConnectionChange(props.projectId, (name: string) =>
    call('grantTools', { projectId: props.projectId, params: { name }, body: { tools: [props.connection.tool] } }),
  );
  return (
    <Dialog title={`Grant ${props.connection.name}`} onClose={props.onClose}>
      <form
        className="form"
        onSubmit={(event) => {
          event.preventDefault();
          if (agent) grant.mutate(agent.name, { onSuccess: () => props.onGranted(agent.name) });
        }}
      >
        <AgentPicker
          projectId={props.projectId}
          label="Agent"
          value={agent}
          onChange={setAgent}
          noneLabel="Choose an agent…"
        />
        <ErrorNote error={grant.error} />
        <div className="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button className="primary" disabled={!agent || grant.isPending}>
            Grant
          </button>
        </div>
      </form>
    </Dialog>
  );
}
