import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { AgentStatus, IssuedAgentKey } from '@gatehouse/shared';
import { ApiError, call, keys, page } from '../api.js';
import {
  Dialog,
  ErrorNote,
  formatTime,
  FormActions,
  Loading,
  Pager,
  PlaintextOnceDialog,
  StatusBadge,
  useTypedSearch,
} from '../components.js';

const PAGE = 50;

/** The agents of a project: server-side filter, search and paging (fast with any number of agents). */
export function Agents({ projectId }: { projectId: string }): React.JSX.Element {
  const [status, setStatus] = useState<AgentStatus | ''>('');
  const [search, setSearch, q] = useTypedSearch();
  const [offset, setOffset] = useState(0);
  const [creating, setCreating] = useState(false);
  const [issued, setIssued] = useState<IssuedAgentKey | null>(null);
  const filter = { status, q, offset };
  const list = useQuery({
    queryKey: keys.agentList(projectId, filter),
    queryFn: () =>
      page('listAgents', {
        projectId,
        query: { limit: PAGE, offset, ...(status ? { status } : {}), ...(q ? { q } : {}) },
      }),
    placeholderData: keepPreviousData,
  });
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
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as AgentStatus | '');
              setOffset(0);
            }}
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
            onChange={(e) => {
              setSearch(e.target.value);
              setOffset(0);
            }}
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
                    <a href={`#/agents/${encodeURIComponent(agent.name)}`}>{agent.name}</a>
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
          <Pager offset={offset} pageSize={PAGE} total={total} onOffset={setOffset} />
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

function CreateAgentDialog(props: {
  projectId: string;
  onClose: () => void;
  onCreated: (key: IssuedAgentKey | null) => void;
}): React.JSX.Element {
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [provider, setProvider] = useState('');
  const [scopes, setScopes] = useState('');
  const [issueKey, setIssueKey] = useState(true);
  const create = useMutation({
    mutationFn: () =>
      call('createAgent', {
        projectId: props.projectId,
        body: {
          name,
          ...(description ? { description } : {}),
          ...(provider ? { provider } : {}),
          scopes: scopes.split(/[\s,]+/).filter(Boolean),
          issue_key: issueKey,
        },
      }),
    onSuccess: async (agent) => {
      await client.invalidateQueries({ queryKey: keys.agents(props.projectId) });
      props.onCreated(agent.agent_key ?? null);
    },
  });
  const error = create.error instanceof ApiError ? create.error : null;
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <Dialog title="Create agent" onClose={props.onClose}>
      <form onSubmit={onSubmit} className="form">
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} aria-invalid={!!error?.fieldError('name')} />
        </label>
        {error?.fieldError('name') && <span className="field-error">{error.fieldError('name')}</span>}
        <label>
          Description
          <input value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <label>
          Provider
          <input value={provider} onChange={(e) => setProvider(e.target.value)} placeholder="e.g. Anthropic" />
        </label>
        <label>
          Scopes
          <input value={scopes} onChange={(e) => setScopes(e.target.value)} placeholder="payments:read, self:write" />
        </label>
        {error?.fieldError('scopes') && <span className="field-error">{error.fieldError('scopes')}</span>}
        <label className="check">
          <input type="checkbox" checked={issueKey} onChange={(e) => setIssueKey(e.target.checked)} /> Issue an API key
          now
        </label>
        <ErrorNote error={error} fields={['name', 'scopes']} />
        <FormActions submit="Create" busy={create.isPending} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}
