import { useQuery } from '@tanstack/react-query';
import { useNavigate, useSearch } from '@tanstack/react-router';
import { useState } from 'react';
import type { McpServer } from '@gatehouse/shared';
import { call } from '../../api.js';
import { useProject } from '../../app/project.js';
import { ConfirmButton, ErrorNote, Loading, StatusBadge } from '../../ui/components.js';
import { AgentPicker, type PickedAgent } from '../agents/AgentPicker.js';
import { agentQueries } from '../agents/queries.js';
import { useServerMutation } from './mutations.js';
import { serverQueries } from './queries.js';
import { RegisterServerDialog } from './RegisterServerDialog.js';

/** The project's MCP tool servers: their status and tools, which agents use through the gateway. */
export function ServersPage(): React.JSX.Element {
  const projectId = useProject().id;
  const search = useSearch({ from: '/_project/servers' });
  const navigate = useNavigate({ from: '/servers' });
  const servers = useQuery(serverQueries.list(projectId));
  const [registering, setRegistering] = useState(false);
  const select = (name: string | undefined) => void navigate({ search: (prev) => ({ ...prev, server: name }) });
  const selected = servers.data?.find((server) => server.name === search.server);
  return (
    <section>
      <div className="toolbar">
        <h1>Tool servers</h1>
        <span className="spacer" />
        <button onClick={() => setRegistering(true)}>Register server</button>
      </div>
      <p className="muted">
        MCP servers whose tools agents reach through the Gatehouse gateway (<code>/mcp</code>), as{' '}
        <code>&lt;server&gt;.&lt;tool&gt;</code>: only the tools each agent is granted.
      </p>
      {servers.isPending ? (
        <Loading />
      ) : servers.isError ? (
        <ErrorNote error={servers.error} />
      ) : servers.data.length === 0 ? (
        <p className="empty">No tool servers registered.</p>
      ) : (
        <table aria-label="Tool servers">
          <thead>
            <tr>
              <th>Name</th>
              <th>Transport</th>
              <th>Status</th>
              <th>Tools</th>
              <th>Last error</th>
            </tr>
          </thead>
          <tbody>
            {servers.data.map((server) => (
              <tr key={server.id} aria-selected={server.name === search.server}>
                <td>
                  <button className="link" onClick={() => select(server.name)}>
                    {server.name}
                  </button>
                </td>
                <td>{server.transport}</td>
                <td>
                  <StatusBadge status={server.status} />
                </td>
                <td>{server.tools.length}</td>
                <td className="muted small">{server.last_error ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {selected && <ServerPanel projectId={projectId} server={selected} onRemoved={() => select(undefined)} />}
      {registering && (
        <RegisterServerDialog
          projectId={projectId}
          onClose={() => setRegistering(false)}
          onRegistered={(server) => {
            setRegistering(false);
            select(server.name);
          }}
        />
      )}
    </section>
  );
}

/** One server: how it runs, its tools, and granting a tool to an agent. */
function ServerPanel(props: { projectId: string; server: McpServer; onRemoved: () => void }): React.JSX.Element {
  const { projectId, server } = props;
  const params = { name: server.name };
  const change = useServerMutation(projectId, (run: () => Promise<unknown>) => run());
  const [agent, setAgent] = useState<PickedAgent | null>(null);
  const permissions = useQuery({
    ...agentQueries.permissions(projectId, agent?.name ?? ''),
    enabled: agent !== null,
  });
  const effective = new Set(agent ? (permissions.data?.effective_tools ?? []) : []);
  const grant = (tool: string) =>
    change.mutate(() => call('grantTools', { projectId, params: { name: agent!.name }, body: { tools: [tool] } }));
  return (
    <div className="server-panel" aria-label={`Server ${server.name}`} role="region">
      <div className="toolbar">
        <h2>{server.name}</h2>
        <StatusBadge status={server.status} />
        <span className="spacer" />
        <button
          onClick={() =>
            change.mutate(() => call('updateServer', { projectId, params, body: { enabled: !server.enabled } }))
          }
        >
          {server.enabled ? 'Stop' : 'Start'}
        </button>
        <ConfirmButton
          title={`Remove ${server.name}?`}
          description="Gatehouse stops it, forgets its keychain entries and removes its tools: agents lose them at once."
          confirm="Remove server"
          onConfirm={() =>
            change.mutate(() => call('deleteServer', { projectId, params }), { onSuccess: props.onRemoved })
          }
        >
          Remove
        </ConfirmButton>
      </div>
      <dl className="facts">
        <div>
          <dt>{server.transport === 'stdio' ? 'Command' : 'URL'}</dt>
          <dd>
            <code>{server.transport === 'stdio' ? [server.command, ...server.args].join(' ') : server.url}</code>
          </dd>
        </div>
        {server.secret_env.length > 0 && (
          <div>
            <dt>Secrets in the keychain</dt>
            <dd>{server.secret_env.join(', ')}</dd>
          </div>
        )}
        {server.last_error && (
          <div>
            <dt>Last error</dt>
            <dd role="alert">{server.last_error}</dd>
          </div>
        )}
      </dl>
      <ErrorNote error={change.error} />
      <h3>Tools</h3>
      <AgentPicker
        projectId={projectId}
        label="Grant to agent"
        value={agent}
        onChange={setAgent}
        noneLabel="Choose an agent…"
      />
      {server.tools.length === 0 ? (
        <p className="empty">{server.status === 'running' ? 'It offers no tools.' : 'No tools discovered yet.'}</p>
      ) : (
        <table aria-label={`Tools of ${server.name}`}>
          <tbody>
            {server.tools.map((tool) => (
              <tr key={tool.name}>
                <td>
                  <code>{tool.name}</code>
                </td>
                <td>{tool.description?.split('\n')[0] ?? '—'}</td>
                <td>
                  {agent && effective.has(tool.name) ? (
                    <span className="muted">Granted to {agent.name}</span>
                  ) : (
                    <button
                      disabled={!agent || change.isPending}
                      aria-label={`Grant ${tool.name}`}
                      onClick={() => grant(tool.name)}
                    >
                      Grant
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
