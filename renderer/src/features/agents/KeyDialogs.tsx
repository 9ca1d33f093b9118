import { useForm } from 'react-hook-form';
import { CreateKeyRequest, RotateKeyRequest, type Agent, type IssuedAgentKey } from '@gatehouse/shared';
import { call } from '../../api.js';
import { Dialog, ErrorNote, FieldError, FormActions } from '../../ui/components.js';
import { contractResolver, showProblemOnFields } from '../../ui/forms.js';
import { useAgentMutation } from './mutations.js';

interface CreateKeyForm {
  label: string;
  /** Days, as the select gives them: `0` never expires. */
  expires_in_days: string;
  scopes: string[];
}
const KEY_FIELDS = ['label', 'expires_in_days', 'scopes'] as const;
const toKeyBody = ({ label, expires_in_days, scopes }: CreateKeyForm): CreateKeyRequest => ({
  ...(label ? { label } : {}),
  expires_in_days: Number(expires_in_days),
  // The checked boxes' scopes (react-hook-form gives `false` for a lone unchecked box).
  scopes: ([] as unknown[]).concat(scopes).filter((scope): scope is string => typeof scope === 'string'),
});

export function CreateKeyDialog(props: {
  projectId: string;
  agent: Agent;
  onClose: () => void;
  onIssued: (key: IssuedAgentKey) => void;
}): React.JSX.Element {
  const form = useForm<CreateKeyForm, unknown, CreateKeyRequest>({
    defaultValues: { label: '', expires_in_days: '30', scopes: [] },
    resolver: contractResolver(CreateKeyRequest, toKeyBody),
  });
  const create = useAgentMutation(props.projectId, (body: CreateKeyRequest) =>
    call('createKey', { projectId: props.projectId, params: { name: props.agent.name }, body }),
  );
  const onSubmit = form.handleSubmit((body) =>
    create.mutate(body, {
      onSuccess: props.onIssued,
      onError: (error) => showProblemOnFields(error, KEY_FIELDS, form.setError),
    }),
  );
  const { errors } = form.formState;
  return (
    <Dialog title="Create key" onClose={props.onClose}>
      <form className="form" onSubmit={(event) => void onSubmit(event)} noValidate>
        <label>
          Label
          <input {...form.register('label')} placeholder="e.g. laptop" aria-invalid={!!errors.label} />
        </label>
        <FieldError error={errors.label} />
        <label>
          Expires after
          <select {...form.register('expires_in_days')}>
            <option value="7">7 days</option>
            <option value="30">30 days</option>
            <option value="90">90 days</option>
            <option value="365">1 year</option>
            <option value="0">Never</option>
          </select>
        </label>
        <FieldError error={errors.expires_in_days} />
        {props.agent.scopes.length > 0 && (
          <fieldset>
            <legend>Scopes (none checked: all of the agent’s)</legend>
            {props.agent.scopes.map((scope) => (
              <label key={scope} className="check">
                <input type="checkbox" value={scope} {...form.register('scopes')} /> {scope}
              </label>
            ))}
          </fieldset>
        )}
        <FieldError error={errors.scopes} />
        <ErrorNote error={create.error} fields={KEY_FIELDS} />
        <FormActions submit="Create" busy={create.isPending} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}

export function RotateKeyDialog(props: {
  projectId: string;
  agent: Agent;
  keyId: string;
  onClose: () => void;
  onIssued: (key: IssuedAgentKey) => void;
}): React.JSX.Element {
  const form = useForm<{ grace_seconds: string }, unknown, RotateKeyRequest>({
    defaultValues: { grace_seconds: '3600' },
    resolver: contractResolver(RotateKeyRequest, ({ grace_seconds }: { grace_seconds: string }) => ({
      grace_seconds: Number(grace_seconds),
    })),
  });
  const rotate = useAgentMutation(props.projectId, (body: RotateKeyRequest) =>
    call('rotateKey', { projectId: props.projectId, params: { name: props.agent.name, key_id: props.keyId }, body }),
  );
  const onSubmit = form.handleSubmit((body) =>
    rotate.mutate(body, {
      onSuccess: props.onIssued,
      onError: (error) => showProblemOnFields(error, ['grace_seconds'], form.setError),
    }),
  );
  return (
    <Dialog title="Rotate key" onClose={props.onClose}>
      <form className="form" onSubmit={(event) => void onSubmit(event)} noValidate>
        <p>A new key replaces this one. The old key keeps working for the grace period, so agents can switch.</p>
        <label>
          Grace period
          <select {...form.register('grace_seconds')}>
            <option value="0">None: stop the old key now</option>
            <option value="3600">1 hour</option>
            <option value="86400">1 day</option>
            <option value="604800">7 days</option>
          </select>
        </label>
        <FieldError error={form.formState.errors.grace_seconds} />
        <ErrorNote error={rotate.error} fields={['grace_seconds']} />
        <FormActions submit="Rotate" busy={rotate.isPending} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}
