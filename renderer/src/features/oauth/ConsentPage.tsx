import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useParams } from '@tanstack/react-router';
import { useState } from 'react';
import { call, WHOLE } from '../../api.js';
import { useProject } from '../../app/project.js';
import { ErrorNote, Loading } from '../../ui/components.js';
import { agentKeys, agentQueries } from '../agents/queries.js';
import { oauthKeys, oauthQueries } from './queries.js';

const NEW_AGENT = '__new__';

/** What each scope lets the client do, in the admin's words. */
const SCOPE_WORDS: Record<string, string> = {
  'mcp:tools': 'Call the tools the agent is granted, through the MCP gateway',
  offline_access: 'Stay connected without asking again (refresh tokens)',
};

/**
 * The OAuth consent screen: an MCP client asks for access; the admin sees who asks, where the
 * answer goes and what it asks for, then picks the agent the client will act as (or makes one)
 * and approves, or denies. The browser then returns to the client with the answer.
 */
export function ConsentPage(): React.JSX.Element {
  const project = useProject();
  const projectId = project.id;
  const client = useQueryClient();
  const { uid } = useParams({ from: '/_project/oauth/consent/$uid' });
  const request = useQuery(oauthQueries.request(projectId, uid));
  const agents = useQuery(agentQueries.list(projectId, { status: 'active', ...WHOLE }));
  const [chosen, setChosen] = useState<string>('');
  const [newName, setNewName] = useState('');
  const answer = useMutation({
    mutationFn: (approve: boolean) =>
      approve
        ? call('approveOAuthRequest', {
            projectId,
            params: { uid },
            body: chosen === NEW_AGENT ? { agent: newName.trim(), create_agent: true } : { agent: chosen },
          })
        : call('denyOAuthRequest', { projectId, params: { uid } }),
    onSuccess: async ({ redirect_to }) => {
      await client.invalidateQueries({ queryKey: oauthKeys.project(projectId) });
      if (chosen === NEW_AGENT) await client.invalidateQueries({ queryKey: agentKeys.project(projectId) });
      // Back to the authorization endpoint, which sends the browser on to the client.
      window.location.assign(redirect_to);
    },
  });

  if (request.isPending) return <Loading />;
  if (request.isError)
    return (
      <section>
        <h1>Authorize a client</h1>
        <ErrorNote error={request.error} />
        <p className="muted">The request may have been answered already, or expired: start again from the client.</p>
      </section>
    );
  const r = request.data;
  const agentChosen = chosen === NEW_AGENT ? newName.trim().length > 0 : chosen !== '';
  return (
    <section className="consent">
      <h1>Authorize {r.client_name ?? 'an unnamed client'}</h1>
      <p>
        An application asks to act as an agent of project <strong>{project.name}</strong>. It will use exactly what the
        agent is granted, until you revoke it.
      </p>
      <dl aria-label="Request">
        <dt>Client</dt>
        <dd>
          {r.client_name ?? '—'} <code className="muted small">{r.client_id}</code>
        </dd>
        <dt>Redirect URI</dt>
        <dd>
          <code>{r.redirect_uri}</code>
        </dd>
        <dt>Scopes</dt>
        <dd>
          <ul aria-label="Scopes">
            {r.scopes.map((scope) => (
              <li key={scope}>
                <code>{scope}</code> {SCOPE_WORDS[scope] ? `— ${SCOPE_WORDS[scope]}` : ''}
              </li>
            ))}
          </ul>
        </dd>
      </dl>
      <label>
        Act as agent{' '}
        <select value={chosen} onChange={(e) => setChosen(e.target.value)}>
          <option value="">Choose an agent…</option>
          {agents.data?.items.map((a) => (
            <option key={a.id} value={a.name}>
              {a.name}
            </option>
          ))}
          <option value={NEW_AGENT}>New agent…</option>
        </select>
      </label>
      {chosen === NEW_AGENT && (
        <label>
          New agent name <input value={newName} onChange={(e) => setNewName(e.target.value)} />
        </label>
      )}
      <ErrorNote error={agents.error ?? answer.error} />
      <div className="actions">
        <button onClick={() => answer.mutate(false)} disabled={answer.isPending}>
          Deny
        </button>
        <button className="primary" onClick={() => answer.mutate(true)} disabled={answer.isPending || !agentChosen}>
          Approve
        </button>
      </div>
    </section>
  );
}
