import { useForm } from 'react-hook-form';
import type { Connection, CreateConnectionRequest } from '@gatehouse/shared';
import { call } from '../../api.js';
import { Dialog, ErrorNote, FieldError, FormActions } from '../../ui/components.js';
import { showProblemOnFields } from '../../ui/forms.js';
import { useConnectionChange } from './mutations.js';
import {
  CONNECTION_FORM_FIELDS,
  connectionFormResolver,
  emptyConnectionForm,
  METHODS,
  type ConnectionForm,
} from './connection-form.js';

/**
 * Adds a connection with a fixed secret or an OAuth client. The secret goes from this form to the
 * daemon, which keeps it in the OS keychain; the form is cleared on success and no screen shows the
 * secret again.
 */
export function AddConnectionDialog(props: {
  projectId: string;
  onClose: () => void;
  onAdded: (connection: Connection) => void;
}): React.JSX.Element {
  const form = useForm<ConnectionForm, unknown, CreateConnectionRequest>({
    defaultValues: emptyConnectionForm,
    resolver: connectionFormResolver,
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
      onError: (error) => showProblemOnFields(error, CONNECTION_FORM_FIELDS, form.setError),
    }),
  );
  const { errors } = form.formState;
  const injection = form.watch('injection');
  const credential = form.watch('credential');
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
        <fieldset>
          <legend>Credential</legend>
          <label className="check">
            <input type="radio" value="secret" {...form.register('credential')} /> a secret (an API key, a token)
          </label>
          <label className="check">
            <input type="radio" value="oauth" {...form.register('credential')} /> an OAuth account, connected afterwards
          </label>
          {credential === 'secret' ? (
            <>
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
            </>
          ) : (
            <>
              <label>
                Authorization endpoint
                <input {...form.register('authorization_url')} aria-invalid={!!errors.authorization_url} />
              </label>
              <FieldError error={errors.authorization_url} />
              <label>
                Token endpoint
                <input {...form.register('token_url')} aria-invalid={!!errors.token_url} />
              </label>
              <FieldError error={errors.token_url} />
              <label>
                Revocation endpoint (optional)
                <input {...form.register('revocation_url')} />
              </label>
              <label>
                Client ID
                <input {...form.register('client_id')} aria-invalid={!!errors.client_id} />
              </label>
              <FieldError error={errors.client_id} />
              <label>
                Client secret (optional)
                <input type="password" autoComplete="new-password" {...form.register('client_secret')} />
              </label>
              <label>
                Scopes
                <input {...form.register('scopes')} placeholder="repo read:user" />
              </label>
              <span className="muted small">
                The client secret and the account&apos;s refresh token are kept in the OS keychain. The provider
                redirects to this daemon at <code>/connections/oauth/callback</code>.
              </span>
            </>
          )}
        </fieldset>
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
        <ErrorNote error={create.error} fields={CONNECTION_FORM_FIELDS} />
        <FormActions submit="Add connection" busy={create.isPending} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}
