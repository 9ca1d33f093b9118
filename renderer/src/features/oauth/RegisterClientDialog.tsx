import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { PreRegisterClient, type RegisteredClient } from '@gatehouse/shared';
import { call } from '../../api.js';
import { Dialog, ErrorNote, FieldError, FormActions } from '../../ui/components.js';
import { contractResolver, showProblemOnFields } from '../../ui/forms.js';
import { oauthServerKeys } from './queries.js';

interface RegisterClientForm {
  client_name: string;
  /** One redirect URI a line, as an admin pastes them. */
  redirect_uris: string;
  kind: 'public' | 'confidential';
}

const FIELDS = ['client_name', 'redirect_uris'] as const;

const toBody = ({ client_name, redirect_uris, kind }: RegisterClientForm): PreRegisterClient => ({
  client_name: client_name.trim(),
  redirect_uris: redirect_uris
    .split('\n')
    .map((uri) => uri.trim())
    .filter(Boolean),
  confidential: kind === 'confidential',
});

/** Pre-registers an OAuth client; the page shows a confidential client's secret once afterwards. */
export function RegisterClientDialog(props: {
  onClose: () => void;
  onRegistered: (client: RegisteredClient) => void;
}): React.JSX.Element {
  const client = useQueryClient();
  const form = useForm<RegisterClientForm, unknown, PreRegisterClient>({
    defaultValues: { client_name: '', redirect_uris: '', kind: 'public' },
    resolver: contractResolver(PreRegisterClient, toBody),
  });
  const register = useMutation({
    mutationFn: (body: PreRegisterClient) => call('preRegisterOAuthClient', { body }),
    onSuccess: () => client.invalidateQueries({ queryKey: oauthServerKeys.preRegistered() }),
  });
  const onSubmit = form.handleSubmit((body) =>
    register.mutate(body, {
      onSuccess: props.onRegistered,
      onError: (error) => showProblemOnFields(error, FIELDS, form.setError),
    }),
  );
  const { errors } = form.formState;
  return (
    <Dialog title="Register OAuth client" onClose={props.onClose}>
      <form className="form" onSubmit={(event) => void onSubmit(event)} noValidate>
        <label>
          Name
          <input {...form.register('client_name')} placeholder="e.g. Team IDE" aria-invalid={!!errors.client_name} />
        </label>
        <FieldError error={errors.client_name} />
        <label>
          Redirect URIs (one a line)
          <textarea
            {...form.register('redirect_uris')}
            rows={3}
            placeholder="http://127.0.0.1/callback"
            aria-invalid={!!errors.redirect_uris}
          />
        </label>
        <p className="muted small">A loopback URI (http://127.0.0.1/…) accepts any port the client picks.</p>
        <FieldError error={errors.redirect_uris} />
        <fieldset>
          <legend>Client type</legend>
          <label className="check">
            <input type="radio" value="public" {...form.register('kind')} /> Public: a desktop app, IDE or CLI (PKCE, no
            secret)
          </label>
          <label className="check">
            <input type="radio" value="confidential" {...form.register('kind')} /> Confidential: a server that keeps a
            secret (shown once)
          </label>
        </fieldset>
        <ErrorNote error={register.error} fields={FIELDS} />
        <FormActions submit="Register" busy={register.isPending} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}
