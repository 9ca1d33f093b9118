import { useForm } from 'react-hook-form';
import { CreateAgentRequest, type IssuedAgentKey } from '@gatehouse/shared';
import { call } from '../../api.js';
import { Dialog, ErrorNote, FieldError, FormActions } from '../../ui/components.js';
import { contractResolver, showProblemOnFields } from '../../ui/forms.js';
import { useAgentMutation } from './mutations.js';

interface CreateAgentForm {
  name: string;
  description: string;
  provider: string;
  /** Comma- or space-separated. */
  scopes: string;
  issue_key: boolean;
}

const FIELDS = ['name', 'description', 'provider', 'scopes'] as const;

const toBody = (form: CreateAgentForm): CreateAgentRequest => ({
  name: form.name,
  ...(form.description ? { description: form.description } : {}),
  ...(form.provider ? { provider: form.provider } : {}),
  scopes: form.scopes.split(/[\s,]+/).filter(Boolean),
  issue_key: form.issue_key,
});

export function CreateAgentDialog(props: {
  projectId: string;
  onClose: () => void;
  onCreated: (key: IssuedAgentKey | null) => void;
}): React.JSX.Element {
  const form = useForm<CreateAgentForm, unknown, CreateAgentRequest>({
    defaultValues: { name: '', description: '', provider: '', scopes: '', issue_key: true },
    resolver: contractResolver(CreateAgentRequest, toBody),
  });
  const create = useAgentMutation(props.projectId, (body: CreateAgentRequest) =>
    call('createAgent', { projectId: props.projectId, body }),
  );
  const onSubmit = form.handleSubmit((body) =>
    create.mutate(body, {
      onSuccess: (agent) => props.onCreated(agent.agent_key ?? null),
      onError: (error) => showProblemOnFields(error, FIELDS, form.setError),
    }),
  );
  const { errors } = form.formState;
  return (
    <Dialog title="Create agent" onClose={props.onClose}>
      <form onSubmit={(event) => void onSubmit(event)} className="form" noValidate>
        <label>
          Name
          <input {...form.register('name')} aria-invalid={!!errors.name} />
        </label>
        <FieldError error={errors.name} />
        <label>
          Description
          <input {...form.register('description')} aria-invalid={!!errors.description} />
        </label>
        <FieldError error={errors.description} />
        <label>
          Provider
          <input {...form.register('provider')} placeholder="e.g. Anthropic" aria-invalid={!!errors.provider} />
        </label>
        <FieldError error={errors.provider} />
        <label>
          Scopes
          <input {...form.register('scopes')} placeholder="payments:read, self:write" aria-invalid={!!errors.scopes} />
        </label>
        <FieldError error={errors.scopes} />
        <label className="check">
          <input type="checkbox" {...form.register('issue_key')} /> Issue an API key now
        </label>
        <ErrorNote error={create.error} fields={FIELDS} />
        <FormActions submit="Create" busy={create.isPending} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}
