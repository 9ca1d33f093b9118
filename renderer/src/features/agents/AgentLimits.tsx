import { useQuery } from '@tanstack/react-query';
import { useFieldArray, useForm } from 'react-hook-form';
import { SetLimitRequest, type Agent, type UsageLimit } from '@gatehouse/shared';
import { call } from '../../api.js';
import { ConfirmButton, ErrorNote, FieldError, formatTime, Loading } from '../../ui/components.js';
import { contractResolver, showProblemOnFields } from '../../ui/forms.js';
import { connectionQueries } from '../connections/queries.js';
import { useAgentMutation } from './mutations.js';
import { agentQueries } from './queries.js';

interface LimitForm {
  /** `agent`, `key:<id>` or `connection:<name>`. */
  subject: string;
  windows: Array<{ name: string; limit: string; seconds: string }>;
  remaining: string;
  refill_amount: string;
  refill_seconds: string;
  /** A `datetime-local` value, in the admin's time zone. */
  expires_at: string;
}

const FIELDS = ['windows', 'remaining', 'expires_at'] as const;

/** A typed number, or the text itself (so the contract's check says it is not an integer). */
const numberOf = (text: string): number => (text.trim() === '' ? NaN : Number(text));

const toBody = (form: LimitForm): SetLimitRequest => {
  const [kind, ...rest] = form.subject.split(':');
  const subject = rest.join(':');
  return {
    ...(kind === 'key' ? { key_id: subject } : kind === 'connection' ? { connection: subject } : {}),
    windows: form.windows.map((window) => ({
      name: window.name.trim(),
      limit: numberOf(window.limit),
      seconds: numberOf(window.seconds),
    })),
    remaining: form.remaining.trim() === '' ? null : numberOf(form.remaining),
    refill:
      form.refill_amount.trim() === '' && form.refill_seconds.trim() === ''
        ? null
        : { amount: numberOf(form.refill_amount), interval_seconds: numberOf(form.refill_seconds) },
    expires_at: form.expires_at ? new Date(form.expires_at).toISOString() : null,
  };
};

const EMPTY: LimitForm = {
  subject: 'agent',
  windows: [{ name: 'minute', limit: '60', seconds: '60' }],
  remaining: '',
  refill_amount: '',
  refill_seconds: '',
  expires_at: '',
};

/**
 * An agent's usage limits (SPEC §11) and their current use, read again every few seconds: the
 * counters live in the daemon's memory and change with every call. A limit applies to the agent
 * as a whole, to one of its keys, or to its use of one connection.
 */
export function AgentLimits({ projectId, agent }: { projectId: string; agent: Agent }): React.JSX.Element {
  const params = { name: agent.name };
  const limits = useQuery(agentQueries.limits(projectId, agent.name));
  const keys = useQuery(agentQueries.keys(projectId, agent.name));
  const connections = useQuery(connectionQueries.list(projectId));
  const set = useAgentMutation(projectId, (body: SetLimitRequest) => call('setLimit', { projectId, params, body }));
  const remove = useAgentMutation(projectId, (limitId: string) =>
    call('deleteLimit', { projectId, params: { ...params, limit_id: limitId } }),
  );
  const form = useForm<LimitForm, unknown, SetLimitRequest>({
    defaultValues: EMPTY,
    resolver: contractResolver(SetLimitRequest, toBody, { refill: 'refill_amount' }),
  });
  const windows = useFieldArray({ control: form.control, name: 'windows' });
  const onSubmit = form.handleSubmit((body) =>
    set.mutate(body, {
      onSuccess: () => form.reset(EMPTY),
      onError: (error) => showProblemOnFields(error, FIELDS, form.setError),
    }),
  );
  const { errors } = form.formState;
  const subjectOf = (limit: UsageLimit) => {
    if (limit.connection) return `its use of ${limit.connection}`;
    if (!limit.key_id) return 'the agent as a whole';
    const key = keys.data?.find((k) => k.id === limit.key_id);
    return key ? `key ${key.prefix}…${key.last_four}${key.label ? ` (${key.label})` : ''}` : `key ${limit.key_id}`;
  };

  return (
    <div>
      <p className="muted">
        Over a limit, the broker and the MCP gateway answer 429 with <code>Retry-After</code> and the{' '}
        <code>RateLimit</code> headers. Use is counted in memory and saved every second.
      </p>
      <ErrorNote error={remove.error} />
      {limits.isPending ? (
        <Loading />
      ) : limits.isError ? (
        <ErrorNote error={limits.error} />
      ) : limits.data.length === 0 ? (
        <p className="empty">No limits: only the agent&apos;s permissions stop it.</p>
      ) : (
        <table aria-label="Usage limits">
          <thead>
            <tr>
              <th>Applies to</th>
              <th>Windows (used of allowed)</th>
              <th>Uses left</th>
              <th>Expires</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {limits.data.map((limit) => (
              <tr key={limit.id}>
                <td>{subjectOf(limit)}</td>
                <td>
                  {limit.windows.length === 0
                    ? '—'
                    : limit.windows.map((window) => (
                        <div key={window.name}>
                          <strong>{window.name}</strong>{' '}
                          {/* Green while little is used, amber past half, red when (nearly) all is. */}
                          <meter
                            min={0}
                            max={window.limit}
                            low={window.limit * 0.5}
                            high={window.limit * 0.9}
                            optimum={0}
                            value={window.used}
                            aria-label={`${window.name} used`}
                          />{' '}
                          {window.used} of {window.limit} per {window.seconds} s
                          <div className="muted small">resets {formatTime(window.resets_at)}</div>
                        </div>
                      ))}
                </td>
                <td>
                  {limit.remaining ?? 'no count'}
                  {limit.refill && (
                    <div className="muted small">
                      back to {limit.refill.amount} every {limit.refill.interval_seconds} s
                    </div>
                  )}
                </td>
                <td>{limit.expires_at ? formatTime(limit.expires_at) : 'never'}</td>
                <td>
                  <ConfirmButton
                    title="Remove this limit?"
                    description={`${agent.name} is no longer limited for ${subjectOf(limit)}, and the limit's counters are forgotten.`}
                    confirm="Remove limit"
                    onConfirm={() => remove.mutate(limit.id)}
                  >
                    Remove
                  </ConfirmButton>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Set a limit</h2>
      <p className="muted small">
        Setting a limit for what already has one replaces it, and its counters start afresh.
      </p>
      <form className="form" onSubmit={(event) => void onSubmit(event)} noValidate aria-label="Set a limit">
        <label>
          Applies to
          <select {...form.register('subject')}>
            <option value="agent">the agent as a whole</option>
            {keys.data
              ?.filter((key) => key.active)
              .map((key) => (
                <option key={key.id} value={`key:${key.id}`}>
                  key {key.prefix}…{key.last_four}
                  {key.label ? ` (${key.label})` : ''}
                </option>
              ))}
            {connections.data?.map((connection) => (
              <option key={connection.id} value={`connection:${connection.name}`}>
                its use of {connection.name}
              </option>
            ))}
          </select>
        </label>
        <fieldset>
          <legend>Requests per window</legend>
          {windows.fields.map((field, index) => (
            <div key={field.id} className="toolbar">
              <label>
                Window name
                <input {...form.register(`windows.${index}.name`)} />
              </label>
              <label>
                Requests
                <input type="number" min={0} {...form.register(`windows.${index}.limit`)} />
              </label>
              <label>
                Seconds
                <input type="number" min={1} {...form.register(`windows.${index}.seconds`)} />
              </label>
              <button type="button" onClick={() => windows.remove(index)}>
                Remove window
              </button>
            </div>
          ))}
          <button type="button" onClick={() => windows.append({ name: '', limit: '', seconds: '' })}>
            Add window
          </button>
        </fieldset>
        <FieldError error={errors.windows?.root ?? errors.windows} />
        <label>
          Uses left (empty: no count)
          <input type="number" min={0} {...form.register('remaining')} aria-invalid={!!errors.remaining} />
        </label>
        <FieldError error={errors.remaining} />
        <div className="toolbar">
          <label>
            Refill to
            <input type="number" min={1} {...form.register('refill_amount')} />
          </label>
          <label>
            every (seconds)
            <input type="number" min={1} {...form.register('refill_seconds')} />
          </label>
        </div>
        <FieldError error={errors.refill_amount} />
        <label>
          Expires (empty: never)
          <input type="datetime-local" {...form.register('expires_at')} />
        </label>
        <FieldError error={errors.expires_at} />
        <ErrorNote error={set.error} fields={FIELDS} />
        <div className="actions">
          <button className="primary" disabled={set.isPending}>
            Set limit
          </button>
        </div>
      </form>
    </div>
  );
}
