import { useQuery } from '@tanstack/react-query';
import { Link, useNavigate, useSearch } from '@tanstack/react-router';
import { useCallback, useState } from 'react';
import type { AgentStatus, IssuedAgentKey } from '@gatehouse/shared';
import { useProject } from '../../app/project.js';
import { useUrlSearchText } from '../../app/search.js';
import { ErrorNote, formatTime, Loading, Pager, PlaintextOnceDialog, StatusBadge } from '../../ui/components.js';
import { CreateAgentDialog } from './CreateAgentDialog.js';
import { agentQueries } from './queries.js';

const PAGE = 50;
export const AGENT_STATUS_CHOICES: readonly AgentStatus[] = ['active', 'suspended', 'revoked'];

/** The agents of a project: server-side filter, search and paging (fast with any number of agents). */
export function AgentsPage(): React.JSX.Element {
  const projectId = useProject().id;
  const { status, q, offset = 0, cursor } = useSearch({ from: '/_project/agents' });
  const navigate = useNavigate({ from: '/agents' });
  const [search, setSearch] = useUrlSearchText(
    q,
    // A new search shows its results from the first page.
    useCallback(
      (text) => void navigate({ search: (prev) => ({ ...prev, q: text, offset: undefined, cursor: undefined }) }),
      [navigate],
    ),
  );
  const [creating, setCreating] = useState(false);
  const [issued, setIssued] = useState<IssuedAgentKey | null>(null);
  const list = useQuery(agentQueries.list(projectId, { status, q, offset, cursor, limit: PAGE }));
  const total = list.data?.total ?? 0;
  return (
    <section>
      <div className="toolbar">
        <h1>Agents</h1>
        <span className="spacer" />
        <button className="primary" onClick={() => setCreating(true)}>
          Create agent
        </button>
      </div>
      <div className="toolbar">
        <label>
          Status{' '}
          <select
            value={status ?? ''}
            onChange={(e) =>
              void navigate({
                search: (prev) => ({
                  ...prev,
                  status: (e.target.value || undefined) as AgentStatus,
                  offset: undefined,
                  cursor: undefined,
                }),
              })
            }
          >
            <option value="">All</option>
            <option value="active">Active</option>
            <option value="suspended">Suspended</option>
            <option value="revoked">Revoked</option>
          </select>
        </label>
        <label>
          Search{' '}
          <input
            type="search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            placeholder="Name or description"
          />
        </label>
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorNote error={list.error} />
      ) : list.data.items.length === 0 ? (
        <p className="empty">{q || status ? 'No agents match.' : 'No agents yet. Create the first one.'}</p>
      ) : (
        <>
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th>Provider</th>
                <th>Scopes</th>
                <th>Last authenticated</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((agent) => (
                <tr key={agent.id}>
                  <td>
                    <Link to="/agents/$name" params={{ name: agent.name }}>
                      {agent.name}
                    </Link>
                    {agent.description && <div className="muted small">{agent.description}</div>}
                  </td>
                  <td>
                    <StatusBadge status={agent.status} />
                  </td>
                  <td>{agent.provider ?? '—'}</td>
                  <td>{agent.scopes.join(', ') || '—'}</td>
                  <td>{formatTime(agent.last_auth_at)}</td>
                  <td>{formatTime(agent.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager
            offset={offset}
            pageSize={PAGE}
            total={total}
            next={list.data?.next}
            onPage={(start, cursor) =>
              void navigate({ search: (prev) => ({ ...prev, offset: start || undefined, cursor }) })
            }
          />
        </>
      )}
      {creating && (
        <CreateAgentDialog
          projectId={projectId}
          onClose={() => setCreating(false)}
          onCreated={(key) => {
            setCreating(false);
            if (key) setIssued(key);
          }}
        />
      )}
      {issued && (
        <PlaintextOnceDialog
          title="The agent's API key"
          secret={issued.api_key}
          keychain={issued.keychain}
          onClose={() => setIssued(null)}
        />
      )}
    </section>
  );
}
