import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { ConnectionGrantRequest, type Connection, type ConnectionGrant } from '@gatehouse/shared';
import { call } from '../../api.js';
import { Dialog, ErrorNote, FieldError, FormActions } from '../../ui/components.js';
import { contractResolver, showProblemOnFields } from '../../ui/forms.js';
import { AgentPicker, type PickedAgent } from '../agents/AgentPicker.js';
import { roleQueries } from '../tools/queries.js';
import { useConnectionChange } from './mutations.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

interface GrantForm {
  methods: string[];
  /** One path pattern a line. */
  paths: string;
}

const toBody = (form: GrantForm): ConnectionGrantRequest => ({
  allowed_methods: ([] as unknown[])
    .concat(form.methods)
    .filter((method): method is string => typeof method === 'string') as ConnectionGrantRequest['allowed_methods'],
  allowed_paths: form.paths
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean),
});

const resolver = contractResolver(ConnectionGrantRequest, toBody, {
  allowed_methods: 'methods',
  allowed_paths: 'paths',
});

/**
 * Grants a connection to an agent or a role, or changes what an existing grant narrows it to:
 * methods and path patterns within the connection's own (the daemon refuses a wider grant).
 */
export function GrantDialog(props: {
  projectId: string;
  connection: Connection;
  /** The grant being edited; absent for a new one. */
  grant?: ConnectionGrant;
  onClose: () => void;
  onGranted: (grant: ConnectionGrant) => void;
}): React.JSX.Element {
  const { connection, grant, projectId } = props;
  const [subject, setSubject] = useState<'agent' | 'role'>(grant?.subject ?? 'agent');
  const [agent, setAgent] = useState<PickedAgent | null>(null);
  const [role, setRole] = useState(grant?.subject === 'role' ? grant.name : '');
  const roles = useQuery({ ...roleQueries.list(), enabled: subject === 'role' && !grant });
  const holder = grant?.name ?? (subject === 'agent' ? agent?.name : role) ?? '';
  const form = useForm<GrantForm, unknown, ConnectionGrantRequest>({
    defaultValues: { methods: grant?.allowed_methods ?? [], paths: (grant?.allowed_paths ?? []).join('\n') },
    resolver,
  });
  const save = useConnectionChange(projectId, (body: ConnectionGrantRequest) =>
    subject === 'agent'
      ? call('setAgentConnectionGrant', { projectId, params: { connection: connection.name, agent: holder }, body })
      : call('setRoleConnectionGrant', { projectId, params: { connection: connection.name, role: holder }, body }),
  );
  const onSubmit = form.handleSubmit((body) =>
    save.mutate(body, {
      onSuccess: props.onGranted,
      onError: (error) => showProblemOnFields(error, ['methods', 'paths'], form.setError),
    }),
  );
  const { errors } = form.formState;
  // A grant may only narrow: the methods offered are the connection's own.
  const methods = connection.allowed_methods.length > 0 ? connection.allowed_methods : METHODS;
  return (
    <Dialog
      title={grant ? `Grant of ${connection.name} to ${grant.subject} ${grant.name}` : `Grant ${connection.name}`}
      onClose={props.onClose}
    >
      <form className="form" onSubmit={(event) => void onSubmit(event)} noValidate autoComplete="off">
        {!grant && (
          <>
            <fieldset>
              <legend>Grant to</legend>
              <label className="check">
                <input type="radio" checked={subject === 'agent'} onChange={() => setSubject('agent')} /> an agent
              </label>
              <label className="check">
                <input type="radio" checked={subject === 'role'} onChange={() => setSubject('role')} /> a role (every
                agent holding it)
              </label>
            </fieldset>
            {subject === 'agent' ? (
              <AgentPicker
                projectId={projectId}
                label="Agent"
                value={agent}
                onChange={setAgent}
                noneLabel="Choose an agent…"
              />
            ) : (
              <label>
                Role
                <select value={role} onChange={(event) => setRole(event.target.value)}>
                  <option value="">Choose a role…</option>
                  {roles.data?.map((choice) => (
                    <option key={choice.name} value={choice.name}>
                      {choice.name}
                    </option>
                  ))}
                </select>
              </label>
            )}
          </>
        )}
        <fieldset>
          <legend>Methods (none checked: all the connection allows)</legend>
          {methods.map((method) => (
            <label key={method} className="check">
              <input type="checkbox" value={method} {...form.register('methods')} /> {method}
            </label>
          ))}
        </fieldset>
        <FieldError error={errors.methods} />
        <label>
          Paths, one a line (empty: all the connection allows)
          <textarea rows={3} {...form.register('paths')} aria-invalid={!!errors.paths} placeholder="/v1/models/*" />
        </label>
        <span className="muted small">
          Within the connection&apos;s own: {connection.allowed_methods.join(', ') || 'every method'} on{' '}
          {connection.allowed_paths.join(', ') || 'every path'}. <code>*</code> matches within one path segment,{' '}
          <code>**</code> across segments.
        </span>
        <FieldError error={errors.paths} />
        <ErrorNote error={save.error} fields={['methods', 'paths']} />
        <FormActions
          submit={grant ? 'Save grant' : 'Grant'}
          busy={save.isPending || holder === ''}
          onCancel={props.onClose}
        />
      </form>
    </Dialog>
  );
}
