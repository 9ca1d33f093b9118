import { useState, type FormEvent } from 'react';
import type { Agent } from '@gatehouse/shared';
import { call } from '../../api.js';
import { ErrorNote, formatTime } from '../../ui/components.js';
import { useAgentMutation } from './mutations.js';

export function AgentOverview({ projectId, agent }: { projectId: string; agent: Agent }): React.JSX.Element {
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
