import { useForm, type Resolver } from 'react-hook-form';
import { CreateConnectionRequest, type Connection } from '@gatehouse/shared';
import { call } from '../../api.js';
import { Dialog, ErrorNote, FieldError, FormActions } from '../../ui/components.js';
import { contractResolver, showProblemOnFields } from '../../ui/forms.js';
import { useConnectionChange } from './mutations.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

interface ConnectionForm {
  name: string;
  base_url: string;
  secret: string;
  injection: 'header' | 'query';
  header_name: string;
  template: string;
  query_name: string;
  methods: string[];
  /** One path pattern a line. */
  paths: string;
  description: string;
}

const toBody = (form: ConnectionForm): CreateConnectionRequest => {
  const paths = form.paths
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return {
    name: form.name.trim(),
    base_url: form.base_url.trim(),
    secret: form.secret,
    injection:
      form.injection === 'header'
        ? { kind: 'header', name: form.header_name.trim(), template: form.template }
        : { kind: 'query', name: form.query_name.trim() },
    ...(form.methods.length > 0 ? { allowed_methods: form.methods as CreateConnectionRequest['allowed_methods'] } : {}),
    ...(paths.length > 0 ? { allowed_paths: paths } : {}),
    ...(form.description.trim() ? { description: form.description.trim() } : {}),
  };
};

/** The form fields named like the body properties the daemon's field errors name. */
const FIELDS = ['name', 'base_url', 'secret', 'injection', 'description'] as const;

const checkBody = contractResolver(CreateConnectionRequest, toBody, {
  allowed_methods: 'methods',
  allowed_paths: 'paths',
});

/** The contract's check, and a secret: the contract leaves it out for OAuth connections, this form has none. */
const resolver: Resolver<ConnectionForm, unknown, CreateConnectionRequest> = async (values, context, options) => {
  const checked = await checkBody(values, context, options);
  if (values.secret) return checked;
  return { values: {}, errors: { ...checked.errors, secret: { type: 'required', message: 'Required.' } } };
};

/**
 * Adds a connection with a fixed secret. The secret goes from this form to the daemon, which keeps
 * it in the OS keychain; the form is cleared on success and no screen shows the secret again.
 */
export function AddConnectionDialog(props: {
  projectId: string;
  onClose: () => void;
  onAdded: (connection: Connection) => void;
}): React.JSX.Element {
  const form = useForm<ConnectionForm, unknown, CreateConnectionRequest>({
    defaultValues: {
      name: '',
      base_url: 'https://',
      secret: '',
      injection: 'header',
      header_name: 'Authorization',
      template: 'Bearer {secret}',
      query_name: 'key',
      methods: [],
      paths: '',
      description: '',
    },
    resolver,
  });
  const create = useConnectionChange(props.projectId, (body: CreateConnectionRequest) =>
    call('createConnection', { projectId: props.projectId, body }),
  );
  const onSubmit = form.handleSubmit((body) =>
    create.mutate(body, {
      onSuccess: (connection) => {
        form.reset();
        props.onAdded(connection);
      },
      onError: (error) => showProblemOnFields(error, FIELDS, form.setError),
    }),
  );
  const { errors } = form.formState;
  const injection = form.watch('injection');
  return (
    <Dialog title="Add connection" onClose={props.onClose}>
      <form className="form" onSubmit={(event) => void onSubmit(event)} noValidate autoComplete="off">
        <label>
          Name
          <input {...form.register('name')} aria-invalid={!!errors.name} placeholder="openai" />
        </label>
        <FieldError error={errors.name} />
        <label>
          Upstream base URL
          <input {...form.register('base_url')} aria-invalid={!!errors.base_url} />
        </label>
        <span className="muted small">https://…, or http:// for this machine only.</span>
        <FieldError error={errors.base_url} />
        <label>
          Secret
          <input
            type="password"
            autoComplete="new-password"
            {...form.register('secret')}
            aria-invalid={!!errors.secret}
          />
        </label>
        <span className="muted small">Kept in the OS keychain; it is never shown again, here or anywhere.</span>
        <FieldError error={errors.secret} />
        <fieldset>
          <legend>How the broker puts it on each request</legend>
          <label className="check">
            <input type="radio" value="header" {...form.register('injection')} /> a header
          </label>
          <label className="check">
            <input type="radio" value="query" {...form.register('injection')} /> a query parameter
          </label>
          {injection === 'header' ? (
            <>
              <label>
                Header
                <input {...form.register('header_name')} />
              </label>
              <label>
                Value template
                <input {...form.register('template')} />
              </label>
              <span className="muted small">
                <code>{'{secret}'}</code> is replaced by the secret: <code>{'Bearer {secret}'}</code>,{' '}
                <code>{'{secret}'}</code>.
              </span>
            </>
          ) : (
            <label>
              Query parameter
              <input {...form.register('query_name')} />
            </label>
          )}
          {errors.injection && (
            <span className="field-error">
              {errors.injection.type === 'server'
                ? errors.injection.message
                : 'A header name and a template holding {secret} (8 characters at least), or a parameter name.'}
            </span>
          )}
        </fieldset>
        <fieldset>
          <legend>Methods allowed (none checked: every method)</legend>
          {METHODS.map((method) => (
            <label key={method} className="check">
              <input type="checkbox" value={method} {...form.register('methods')} /> {method}
            </label>
          ))}
        </fieldset>
        <FieldError error={errors.methods} />
        <label>
          Paths allowed, one a line (empty: every path)
          <textarea rows={3} {...form.register('paths')} aria-invalid={!!errors.paths} placeholder="/v1/chat/**" />
        </label>
        <span className="muted small">
          <code>*</code> matches within one path segment, <code>**</code> across segments.
        </span>
        <FieldError error={errors.paths} />
        <label>
          Description
          <input {...form.register('description')} />
        </label>
        <FieldError error={errors.description} />
        <ErrorNote error={create.error} fields={FIELDS} />
        <FormActions submit="Add connection" busy={create.isPending} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}
