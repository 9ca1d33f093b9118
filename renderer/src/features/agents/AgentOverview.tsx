import { useForm } from 'react-hook-form';
import { UpdateAgentRequest, type Agent } from '@gatehouse/shared';
import { call } from '../../api.js';
import { ErrorNote, FieldError, formatTime } from '../../ui/components.js';
import { contractResolver, showProblemOnFields } from '../../ui/forms.js';
import { useAgentMutation } from './mutations.js';

interface OverviewForm {
  description: string;
  provider: string;
  system_prompt: string;
}
const FIELDS = ['description', 'provider', 'system_prompt'] as const;
/** An emptied field clears the value (`null`), as the contract's PATCH means it. */
const toBody = (form: OverviewForm): UpdateAgentRequest => ({
  description: form.description || null,
  provider: form.provider || null,
  system_prompt: form.system_prompt || null,
});

/** What the agent is: its description, provider and system prompt (editable), and its grants at a glance. */
export function AgentOverview({ projectId, agent }: { projectId: string; agent: Agent }): React.JSX.Element {
  const form = useForm<OverviewForm, unknown, UpdateAgentRequest>({
    defaultValues: {
      description: agent.description ?? '',
      provider: agent.provider ?? '',
      system_prompt: agent.system_prompt ?? '',
    },
    resolver: contractResolver(UpdateAgentRequest, toBody),
  });
  const save = useAgentMutation(projectId, (body: UpdateAgentRequest) =>
    call('updateAgent', { projectId, params: { name: agent.name }, body }),
  );
  const onSubmit = form.handleSubmit((body) =>
    save.mutate(body, { onError: (error) => showProblemOnFields(error, FIELDS, form.setError) }),
  );
  const { errors } = form.formState;
  return (
    <form className="form" onSubmit={(event) => void onSubmit(event)} noValidate>
      <label>
        Description
        <input {...form.register('description')} aria-invalid={!!errors.description} />
      </label>
      <FieldError error={errors.description} />
      <label>
        Provider
        <input {...form.register('provider')} aria-invalid={!!errors.provider} />
      </label>
      <FieldError error={errors.provider} />
      <label>
        System prompt
        <textarea rows={5} {...form.register('system_prompt')} aria-invalid={!!errors.system_prompt} />
      </label>
      <FieldError error={errors.system_prompt} />
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
      <ErrorNote error={save.error} fields={FIELDS} />
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
