import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { RegisteredClient, RegistrationPolicy } from '@gatehouse/shared';
import { call } from '../../api.js';
import { ConfirmButton, ErrorNote, formatTime, Loading, PlaintextOnceDialog } from '../../ui/components.js';
import { oauthServerKeys, oauthServerQueries } from './queries.js';
import { ClientCell } from './ClientCell.js';
import { RegisterClientDialog } from './RegisterClientDialog.js';

const METHODS: Array<{ key: keyof RegistrationPolicy; label: string; description: string }> = [
  {
    key: 'pre_registered_clients',
    label: 'Pre-registered clients',
    description: 'The clients listed below, registered by an admin here, with the CLI or the API.',
  },
  {
    key: 'client_id_metadata_documents',
    label: 'Client ID Metadata Documents',
    description: 'A client whose client_id is an https URL is described by the document at that URL.',
  },
  {
    key: 'dynamic_registration',
    label: 'Dynamic Client Registration (RFC 7591)',
    description: 'Any client may register itself; you still approve each one on the consent page.',
  },
];

/**
 * The OAuth authorization server that MCP clients sign in to (admins): which ways a client may
 * register, and the clients registered ahead of time.
 */
export function OAuthClientsPage(): React.JSX.Element {
  return (
    <section>
      <h1>OAuth clients</h1>
      <RegistrationMethods />
      <PreRegisteredClients />
    </section>
  );
}

function RegistrationMethods(): React.JSX.Element {
  const client = useQueryClient();
  const policy = useQuery(oauthServerQueries.registration());
  // The box shows the admin's choice at once; if the daemon refuses it, it shows the saved one again.
  const save = useMutation({
    mutationFn: (body: RegistrationPolicy) => call('setRegistrationPolicy', { body }),
    onMutate: async (body) => {
      await client.cancelQueries({ queryKey: oauthServerKeys.registration() });
      const saved = client.getQueryData<RegistrationPolicy>(oauthServerKeys.registration());
      client.setQueryData(oauthServerKeys.registration(), body);
      return { saved };
    },
    onError: (_error, _body, context) => client.setQueryData(oauthServerKeys.registration(), context?.saved),
    onSuccess: (saved) => client.setQueryData(oauthServerKeys.registration(), saved),
  });
  if (policy.isPending) return <Loading />;
  if (policy.isError) return <ErrorNote error={policy.error} />;
  return (
    <fieldset aria-label="Registration methods">
      <legend>Registration methods</legend>
      {METHODS.map((method) => (
        <label key={method.key} className="check">
          <input
            type="checkbox"
            checked={policy.data[method.key]}
            disabled={save.isPending}
            onChange={(event) => save.mutate({ ...policy.data, [method.key]: event.target.checked })}
          />{' '}
          {method.label}
          <div className="muted small">{method.description}</div>
        </label>
      ))}
      <ErrorNote error={save.error} />
    </fieldset>
  );
}

function PreRegisteredClients(): React.JSX.Element {
  const client = useQueryClient();
  const list = useQuery(oauthServerQueries.preRegistered());
  const [registering, setRegistering] = useState(false);
  const [secret, setSecret] = useState<RegisteredClient | null>(null);
  const remove = useMutation({
    mutationFn: (clientId: string) => call('deletePreRegisteredClient', { params: { client_id: clientId } }),
    onSuccess: () => client.invalidateQueries({ queryKey: oauthServerKeys.preRegistered() }),
  });
  return (
    <>
      <div className="toolbar">
        <h2>Pre-registered clients</h2>
        <span className="spacer" />
        <button className="primary" onClick={() => setRegistering(true)}>
          Register client
        </button>
      </div>
      <ErrorNote error={remove.error} />
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorNote error={list.error} />
      ) : list.data.length === 0 ? (
        <p className="empty">No client is pre-registered. Clients that register themselves are not listed here.</p>
      ) : (
        <table aria-label="Pre-registered clients">
          <thead>
            <tr>
              <th>Client</th>
              <th>Type</th>
              <th>Redirect URIs</th>
              <th>Registered</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.data.map((c) => (
              <tr key={c.client_id}>
                <ClientCell client={c} />
                <td>{c.confidential ? 'confidential' : 'public'}</td>
                <td>
                  {c.redirect_uris.map((uri) => (
                    <div key={uri}>
                      <code>{uri}</code>
                    </div>
                  ))}
                </td>
                <td>{formatTime(c.created_at)}</td>
                <td>
                  <ConfirmButton
                    title={`Delete ${c.client_name}?`}
                    description="The client is forgotten: every token it holds stops working now, and it cannot sign in again until you register it anew (with a new client ID)."
                    confirm="Delete client"
                    onConfirm={() => remove.mutate(c.client_id)}
                    disabled={remove.isPending}
                    className="danger"
                  >
                    Delete
                  </ConfirmButton>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {registering && (
        <RegisterClientDialog
          onClose={() => setRegistering(false)}
          onRegistered={(registered) => {
            setRegistering(false);
            if (registered.client_secret) setSecret(registered);
          }}
        />
      )}
      {secret?.client_secret && (
        <PlaintextOnceDialog
          title={`Client secret for ${secret.client_name}`}
          secret={secret.client_secret}
          keychain={null}
          note={`Client ID: ${secret.client_id}. The client sends both at the token endpoint (HTTP Basic).`}
          onClose={() => setSecret(null)}
        />
      )}
    </>
  );
}
