import { useFieldArray, useForm } from 'react-hook-form';
import { CreateServerRequest, type McpServer } from '@gatehouse/shared';
import { call } from '../../api.js';
import { Dialog, ErrorNote, FieldError, FormActions } from '../../ui/components.js';
import { contractResolver, showProblemOnFields } from '../../ui/forms.js';
import { useServerMutation } from './mutations.js';

interface RegisterServerForm {
  name: string;
  transport: 'stdio' | 'http';
  command: string;
  /** One argument per line: arguments may hold spaces. */
  args: string;
  /** `NAME=value`, one per line. */
  env: string;
  /** Values kept in the keychain: typed into password fields, never shown again. */
  secrets: Array<{ name: string; value: string }>;
  url: string;
  credential: string;
  credential_header: string;
}

const FIELDS = ['name', 'command', 'args', 'env', 'url', 'credential', 'credential_header'] as const;

const lines = (text: string) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);

function toBody(form: RegisterServerForm): CreateServerRequest {
  if (form.transport === 'http')
    return {
      name: form.name,
      transport: 'http',
      url: form.url,
      ...(form.credential ? { credential: form.credential } : {}),
      ...(form.credential_header ? { credential_header: form.credential_header } : {}),
    };
  const env = Object.fromEntries(
    lines(form.env).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  const secrets = form.secrets.filter((secret) => secret.name);
  return {
    name: form.name,
    transport: 'stdio',
    command: form.command,
    args: lines(form.args),
    ...(Object.keys(env).length ? { env } : {}),
    ...(secrets.length ? { secret_env: Object.fromEntries(secrets.map((s) => [s.name, s.value])) } : {}),
  };
}

/** Registers a stdio server (started by the daemon) or a Streamable HTTP one. */
export function RegisterServerDialog(props: {
  projectId: string;
  onClose: () => void;
  onRegistered: (server: McpServer) => void;
}): React.JSX.Element {
  const form = useForm<RegisterServerForm, unknown, CreateServerRequest>({
    defaultValues: {
      name: '',
      transport: 'stdio',
      command: '',
      args: '',
      env: '',
      secrets: [],
      url: '',
      credential: '',
      credential_header: '',
    },
    resolver: contractResolver(CreateServerRequest, toBody, { secret_env: 'secrets' }),
  });
  const secrets = useFieldArray({ control: form.control, name: 'secrets' });
  const register = useServerMutation(props.projectId, (body: CreateServerRequest) =>
    call('createServer', { projectId: props.projectId, body }),
  );
  const onSubmit = form.handleSubmit((body) =>
    register.mutate(body, {
      onSuccess: props.onRegistered,
      onError: (error) => showProblemOnFields(error, FIELDS, form.setError),
    }),
  );
  const { errors } = form.formState;
  const transport = form.watch('transport');
  return (
    <Dialog title="Register MCP server" onClose={props.onClose}>
      <form onSubmit={(event) => void onSubmit(event)} className="form" noValidate>
        <label>
          Name
          <input {...form.register('name')} placeholder="everything" aria-invalid={!!errors.name} />
        </label>
        <FieldError error={errors.name} />
        <fieldset className="choices">
          <legend>Transport</legend>
          <label className="check">
            <input type="radio" value="stdio" {...form.register('transport')} /> stdio (started by Gatehouse)
          </label>
          <label className="check">
            <input type="radio" value="http" {...form.register('transport')} /> Streamable HTTP
          </label>
        </fieldset>
        {transport === 'stdio' ? (
          <>
            <label>
              Command
              <input {...form.register('command')} placeholder="npx" aria-invalid={!!errors.command} />
            </label>
            <FieldError error={errors.command} />
            <label>
              Arguments (one per line)
              <textarea {...form.register('args')} rows={3} aria-invalid={!!errors.args} />
            </label>
            <FieldError error={errors.args} />
            <label>
              Environment (NAME=value, one per line)
              <textarea {...form.register('env')} rows={2} aria-invalid={!!errors.env} />
            </label>
            <FieldError error={errors.env} />
            {secrets.fields.map((field, index) => (
              <div className="toolbar fields" key={field.id}>
                <label>
                  Secret variable
                  <input {...form.register(`secrets.${index}.name`)} placeholder="API_TOKEN" />
                </label>
                <label>
                  Value
                  <input type="password" autoComplete="off" {...form.register(`secrets.${index}.value`)} />
                </label>
                <button type="button" onClick={() => secrets.remove(index)}>
                  Remove
                </button>
              </div>
            ))}
            <FieldError error={errors.secrets as { message?: string } | undefined} />
            <div className="toolbar">
              <button type="button" onClick={() => secrets.append({ name: '', value: '' })}>
                Add secret variable
              </button>
            </div>
            <p className="muted small">
              Secret values go to the OS keychain; Gatehouse passes them to the server when it starts it.
            </p>
          </>
        ) : (
          <>
            <label>
              URL
              <input {...form.register('url')} placeholder="https://mcp.example.com/mcp" aria-invalid={!!errors.url} />
            </label>
            <FieldError error={errors.url} />
            <label>
              Credential (kept in the keychain)
              <input type="password" autoComplete="off" {...form.register('credential')} />
            </label>
            <label>
              Sent in header
              <input {...form.register('credential_header')} placeholder="X-API-Key (default: Authorization: Bearer)" />
            </label>
            <FieldError error={errors.credential_header} />
          </>
        )}
        <ErrorNote error={register.error} fields={FIELDS} />
        <FormActions submit="Register" busy={register.isPending} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}
