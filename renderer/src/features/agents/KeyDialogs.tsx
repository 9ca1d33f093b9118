import { useState, type FormEvent } from 'react';
import type { Agent, IssuedAgentKey } from '@gatehouse/shared';
import { ApiError, call } from '../../api.js';
import { Dialog, ErrorNote, FormActions } from '../../ui/components.js';
import { useAgentMutation } from './mutations.js';

export function CreateKeyDialog(props: {
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

export function RotateKeyDialog(props: {
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
