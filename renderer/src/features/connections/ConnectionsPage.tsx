import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { Connection, ConnectionGrant } from '@gatehouse/shared';
import { call } from '../../api.js';
import { useProject } from '../../app/project.js';
import { ConfirmButton, Dialog, ErrorNote, formatTime, Loading } from '../../ui/components.js';
import { AddConnectionDialog } from './AddConnectionDialog.js';
import { GrantDialog } from './GrantDialog.js';
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
  const [granting, setGranting] = useState<{ connection: Connection; grant?: ConnectionGrant } | null>(null);
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
              <th>Granted to</th>
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
                <td>
                  <ConnectionGrants
                    projectId={projectId}
                    connection={connection}
                    onEdit={(grant) => setGranting({ connection, grant })}
                  />
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
                    <button onClick={() => setGranting({ connection })}>Grant</button>
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
          connection={granting.connection}
          grant={granting.grant}
          onClose={() => setGranting(null)}
          onGranted={(grant) => {
            setGranting(null);
            setNotice(`${grant.subject} ${grant.name} may now call ${granting.connection.name} through the broker.`);
          }}
        />
      )}
    </section>
  );
}

/** Who holds a connection, each grant with what it narrows the connection to; editable and revocable. */
function ConnectionGrants(props: {
  projectId: string;
  connection: Connection;
  onEdit: (grant: ConnectionGrant) => void;
}): React.JSX.Element {
  const { projectId, connection } = props;
  const grants = useQuery(connectionQueries.grants(projectId, connection.name));
  const revoke = useConnectionChange(projectId, (grant: ConnectionGrant) =>
    grant.subject === 'agent'
      ? call('revokeAgentConnectionGrant', { projectId, params: { connection: connection.name, agent: grant.name } })
      : call('revokeRoleConnectionGrant', { projectId, params: { connection: connection.name, role: grant.name } }),
  );
  // Not a Loading status of its own: the page has one, and each row has this cell.
  if (grants.isPending) return <span className="muted small">…</span>;
  if (grants.isError) return <ErrorNote error={grants.error} />;
  if (grants.data.length === 0) return <span className="muted small">nobody yet</span>;
  return (
    <ul className="grants" aria-label={`Grants of ${connection.name}`}>
      {grants.data.map((grant) => (
        <li key={`${grant.subject}:${grant.name}`}>
          {grant.subject} <strong>{grant.name}</strong>
          <div className="muted small">
            {grant.allowed_methods.length === 0 && grant.allowed_paths.length === 0
              ? 'as the connection allows'
              : `${grant.allowed_methods.join(', ') || 'its methods'} on ${grant.allowed_paths.join(', ') || 'its paths'}`}
          </div>
          <div className="row-actions">
            <button className="small" onClick={() => props.onEdit(grant)}>
              Narrow
            </button>
            <ConfirmButton
              title={`Revoke ${connection.name} from ${grant.subject} ${grant.name}?`}
              description="Its calls through the broker are refused from the next one."
              confirm="Revoke grant"
              className="danger small"
              onConfirm={() => revoke.mutate(grant)}
            >
              Revoke
            </ConfirmButton>
          </div>
        </li>
      ))}
      <ErrorNote error={revoke.error} />
    </ul>
  );
}
