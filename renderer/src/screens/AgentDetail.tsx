import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type KeyboardEvent } from 'react';
import type { Agent, IssuedAgentKey } from '@gatehouse/shared';
import { ApiError, call, keys, page, WHOLE } from '../api.js';
import { Permissions } from './Permissions.js';
import {
  Dialog,
  ErrorNote,
  formatTime,
  Loading,
  Pager,
  PlaintextOnceDialog,
  StatusBadge,
  FormActions,
} from '../components.js';

const TABS = ['Overview', 'Keys', 'Permissions', 'Identity', 'Activity'] as const;
type Tab = (typeof TABS)[number];

export function AgentDetail({ projectId, name }: { projectId: string; name: string }): React.JSX.Element {
  const [tab, setTab] = useState<Tab>('Overview');
  const agent = useQuery({
    queryKey: keys.agent(projectId, name),
    queryFn: () => call('getAgent', { projectId, params: { name } }),
  });
  // The tabs pattern: arrow keys, Home and End move between tabs; Tab leaves the tab list.
  const onTabKey = (event: KeyboardEvent<HTMLDivElement>) => {
    const at = TABS.indexOf(tab);
    const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: TABS.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    const chosen = TABS[(next + TABS.length) % TABS.length]!;
    setTab(chosen);
    document.getElementById(`tab-${chosen}`)?.focus();
  };
  if (agent.isPending) return <Loading />;
  if (agent.isError) return <ErrorNote error={agent.error} />;
  const a = agent.data;
  return (
    <section>
      <p>
        <a href="#/agents">← Agents</a>
      </p>
      <div className="toolbar">
        <h1>{a.name}</h1>
        <StatusBadge status={a.status} />
        <span className="spacer" />
        <StatusActions projectId={projectId} agent={a} />
      </div>
      <div role="tablist" aria-label="Agent" className="tabs" onKeyDown={onTabKey}>
        {TABS.map((t) => (
          <button
            key={t}
            id={`tab-${t}`}
            role="tab"
            aria-selected={tab === t}
            aria-controls="agent-tabpanel"
            tabIndex={tab === t ? 0 : -1}
            onClick={() => setTab(t)}
          >
            {t}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="agent-tabpanel" aria-labelledby={`tab-${tab}`}>
        {tab === 'Overview' && <Overview projectId={projectId} agent={a} />}
        {tab === 'Keys' && <Keys projectId={projectId} agent={a} />}
        {tab === 'Permissions' && <Permissions projectId={projectId} agent={a} />}
        {tab === 'Identity' && <Identity agent={a} />}
        {tab === 'Activity' && <Activity projectId={projectId} agent={a} />}
      </div>
    </section>
  );
}

function useAgentMutation<T, V = void>(projectId: string, run: (variables: V) => Promise<T>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: run,
    onSuccess: () => client.invalidateQueries({ queryKey: keys.agents(projectId) }),
  });
}

/** Suspend or resume; revoke for good; delete. The last two ask first: neither can be undone. */
function StatusActions({ projectId, agent }: { projectId: string; agent: Agent }): React.JSX.Element {
  const params = { name: agent.name };
  const suspend = useAgentMutation(projectId, () => call('suspendAgent', { projectId, params }));
  const resume = useAgentMutation(projectId, () => call('resumeAgent', { projectId, params }));
  const revoke = useAgentMutation(projectId, () => call('revokeAgent', { projectId, params }));
  const remove = useAgentMutation(projectId, async () => {
    await call('deleteAgent', { projectId, params });
    window.location.hash = '#/agents';
  });
  const error = suspend.error ?? resume.error ?? revoke.error ?? remove.error;
  return (
    <>
      <ErrorNote error={error} />
      {agent.status === 'revoked' ? (
        <span className="muted">Revoked for good</span>
      ) : agent.status === 'active' ? (
        <button onClick={() => suspend.mutate()} disabled={suspend.isPending}>
          Suspend
        </button>
      ) : (
        <button onClick={() => resume.mutate()} disabled={resume.isPending}>
          Resume
        </button>
      )}
      {agent.status !== 'revoked' && (
        <button
          className="danger"
          disabled={revoke.isPending}
          onClick={() => {
            if (window.confirm(`Revoke ${agent.name} for good? Its keys and tokens stop, and it can never be resumed.`))
              revoke.mutate();
          }}
        >
          Revoke for good
        </button>
      )}
      <button
        className="danger"
        disabled={remove.isPending}
        onClick={() => {
          if (window.confirm(`Delete ${agent.name}, its keys and its keychain entries? Its audit history stays.`))
            remove.mutate();
        }}
      >
        Delete
      </button>
    </>
  );
}

function Overview({ projectId, agent }: { projectId: string; agent: Agent }): React.JSX.Element {
  const [description, setDescription] = useState(agent.description ?? '');
  const [provider, setProvider] = useState(agent.provider ?? '');
  const [systemPrompt, setSystemPrompt] = useState(agent.system_prompt ?? '');
  const save = useAgentMutation(projectId, () =>
    call('updateAgent', {
      projectId,
      params: { name: agent.name },
      body: { description: description || null, provider: provider || null, system_prompt: systemPrompt || null },
    }),
  );
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <form className="form" onSubmit={onSubmit}>
      <label>
        Description
        <input value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <label>
        Provider
        <input value={provider} onChange={(e) => setProvider(e.target.value)} />
      </label>
      <label>
        System prompt
        <textarea rows={5} value={systemPrompt} onChange={(e) => setSystemPrompt(e.target.value)} />
      </label>
      <dl className="facts">
        <div>
          <dt>Scopes</dt>
          <dd>{agent.scopes.join(', ') || '—'}</dd>
        </div>
        <div>
          <dt>Allowed tools</dt>
          <dd>{agent.allowed_tools.join(', ') || '—'}</dd>
        </div>
        <div>
          <dt>Permissions version</dt>
          <dd>{agent.permissions_version}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{formatTime(agent.created_at)}</dd>
        </div>
      </dl>
      <ErrorNote error={save.error} />
      {save.isSuccess && (
        <p className="muted" role="status">
          Saved.
        </p>
      )}
      <div className="actions">
        <button className="primary" disabled={save.isPending}>
          Save
        </button>
      </div>
    </form>
  );
}

function Keys({ projectId, agent }: { projectId: string; agent: Agent }): React.JSX.Element {
  const params = { name: agent.name };
  const list = useQuery({
    queryKey: keys.agentKeys(projectId, agent.name),
    queryFn: () => call('listKeys', { projectId, params, query: WHOLE }),
  });
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
                      <button
                        onClick={() => {
                          if (window.confirm(`Revoke key ${key.prefix}? Agents using it are refused at once.`))
                            revoke.mutate(key.id);
                        }}
                      >
                        Revoke
                      </button>
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

function CreateKeyDialog(props: {
  projectId: string;
  agent: Agent;
  onClose: () => void;
  onIssued: (key: IssuedAgentKey) => void;
}): React.JSX.Element {
  const [label, setLabel] = useState('');
  const [days, setDays] = useState('30');
  const [scopes, setScopes] = useState<string[]>([]);
  const create = useAgentMutation(props.projectId, () =>
    call('createKey', {
      projectId: props.projectId,
      params: { name: props.agent.name },
      body: { ...(label ? { label } : {}), expires_in_days: Number(days), scopes },
    }),
  );
  const error = create.error instanceof ApiError ? create.error : null;
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(undefined, { onSuccess: props.onIssued });
  };
  return (
    <Dialog title="Create key" onClose={props.onClose}>
      <form className="form" onSubmit={onSubmit}>
        <label>
          Label
          <input value={label} onChange={(e) => setLabel(e.target.value)} placeholder="e.g. laptop" />
        </label>
        <label>
          Expires after
          <select value={days} onChange={(e) => setDays(e.target.value)}>
            <option value="7">7 days</option>
            <option value="30">30 days</option>
            <option value="90">90 days</option>
            <option value="365">1 year</option>
            <option value="0">Never</option>
          </select>
        </label>
        {props.agent.scopes.length > 0 && (
          <fieldset>
            <legend>Scopes (none checked: all of the agent’s)</legend>
            {props.agent.scopes.map((scope) => (
              <label key={scope} className="check">
                <input
                  type="checkbox"
                  checked={scopes.includes(scope)}
                  onChange={(e) => setScopes(e.target.checked ? [...scopes, scope] : scopes.filter((s) => s !== scope))}
                />{' '}
                {scope}
              </label>
            ))}
          </fieldset>
        )}
        {error?.fieldError('label') && <span className="field-error">{error.fieldError('label')}</span>}
        <ErrorNote error={error} fields={['label']} />
        <FormActions submit="Create" busy={create.isPending} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}

function RotateKeyDialog(props: {
  projectId: string;
  agent: Agent;
  keyId: string;
  onClose: () => void;
  onIssued: (key: IssuedAgentKey) => void;
}): React.JSX.Element {
  const [grace, setGrace] = useState('3600');
  const rotate = useAgentMutation(props.projectId, () =>
    call('rotateKey', {
      projectId: props.projectId,
      params: { name: props.agent.name, key_id: props.keyId },
      body: { grace_seconds: Number(grace) },
    }),
  );
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    rotate.mutate(undefined, { onSuccess: props.onIssued });
  };
  return (
    <Dialog title="Rotate key" onClose={props.onClose}>
      <form className="form" onSubmit={onSubmit}>
        <p>A new key replaces this one. The old key keeps working for the grace period, so agents can switch.</p>
        <label>
          Grace period
          <select value={grace} onChange={(e) => setGrace(e.target.value)}>
            <option value="0">None: stop the old key now</option>
            <option value="3600">1 hour</option>
            <option value="86400">1 day</option>
            <option value="604800">7 days</option>
          </select>
        </label>
        <ErrorNote error={rotate.error} />
        <FormActions submit="Rotate" busy={rotate.isPending} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}

function Identity({ agent }: { agent: Agent }): React.JSX.Element {
  const [copied, setCopied] = useState(false);
  return (
    <div>
      <dl className="facts">
        <div>
          <dt>Fingerprint</dt>
          <dd>
            <code>{agent.key_fingerprint}</code>
          </dd>
        </div>
      </dl>
      <pre className="key" aria-label="Public key">
        {agent.public_key}
      </pre>
      <button onClick={() => void navigator.clipboard.writeText(agent.public_key ?? '').then(() => setCopied(true))}>
        {copied ? 'Copied' : 'Copy public key'}
      </button>
      <p className="muted">
        The private key never leaves the OS keychain; the agent proves who it is by signing a challenge with it.
      </p>
    </div>
  );
}

const ACTIVITY_PAGE = 50;

function Activity({ projectId, agent }: { projectId: string; agent: Agent }): React.JSX.Element {
  const [offset, setOffset] = useState(0);
  const events = useQuery({
    queryKey: keys.audit(projectId, { agent_id: agent.id, offset }),
    queryFn: () => page('listAudit', { projectId, query: { agent_id: agent.id, limit: ACTIVITY_PAGE, offset } }),
    placeholderData: keepPreviousData,
  });
  if (events.isPending) return <Loading />;
  if (events.isError) return <ErrorNote error={events.error} />;
  if (events.data.items.length === 0) return <p className="empty">No activity yet.</p>;
  return (
    <>
      <table>
        <thead>
          <tr>
            <th>When</th>
            <th>Event</th>
            <th>Actor</th>
            <th>Outcome</th>
            <th>Target</th>
          </tr>
        </thead>
        <tbody>
          {events.data.items.map((event) => (
            <tr key={event.sequence_number}>
              <td>{formatTime(event.at)}</td>
              <td>
                <code>{event.event_type}</code>
              </td>
              <td>{event.actor}</td>
              <td>{event.outcome}</td>
              <td>{event.target ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {events.data.total > ACTIVITY_PAGE && (
        <Pager offset={offset} pageSize={ACTIVITY_PAGE} total={events.data.total} onOffset={setOffset} />
      )}
    </>
  );
}
