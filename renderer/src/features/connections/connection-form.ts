import type { Resolver } from 'react-hook-form';
import { CreateConnectionRequest } from '@gatehouse/shared';
import { contractResolver } from '../../ui/forms.js';

/** The add-connection form's model: its fields, what it sends, and how it is checked before it goes. */

export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export interface ConnectionForm {
  name: string;
  base_url: string;
  /** A fixed secret, or an account connected afterwards through the provider's OAuth flow. */
  credential: 'secret' | 'oauth';
  secret: string;
  authorization_url: string;
  token_url: string;
  revocation_url: string;
  client_id: string;
  client_secret: string;
  /** Separated by spaces or commas. */
  scopes: string;
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
  const scopes = form.scopes.split(/[\s,]+/).filter(Boolean);
  return {
    name: form.name.trim(),
    base_url: form.base_url.trim(),
    ...(form.credential === 'secret'
      ? { secret: form.secret }
      : {
          oauth: {
            authorization_url: form.authorization_url.trim(),
            token_url: form.token_url.trim(),
            ...(form.revocation_url.trim() ? { revocation_url: form.revocation_url.trim() } : {}),
            client_id: form.client_id.trim(),
            ...(form.client_secret ? { client_secret: form.client_secret } : {}),
            ...(scopes.length > 0 ? { scopes } : {}),
          },
        }),
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
export const CONNECTION_FORM_FIELDS = ['name', 'base_url', 'secret', 'injection', 'description'] as const;

const checkBody = contractResolver(CreateConnectionRequest, toBody, {
  allowed_methods: 'methods',
  allowed_paths: 'paths',
});

const OAUTH_REQUIRED = ['authorization_url', 'token_url', 'client_id'] as const;

/**
 * The contract's check, and what it cannot say: a secret connection needs its secret, an OAuth one
 * its endpoints and client (the contract names their errors only as `oauth`, put here on each field).
 */
export const connectionFormResolver: Resolver<ConnectionForm, unknown, CreateConnectionRequest> = async (
  values,
  context,
  options,
) => {
  const checked = await checkBody(values, context, options);
  const errors: Record<string, { type: string; message: string }> = { ...(checked.errors as object) };
  delete errors.oauth;
  const required = values.credential === 'secret' ? (['secret'] as const) : OAUTH_REQUIRED;
  for (const field of required) if (!values[field].trim()) errors[field] = { type: 'required', message: 'Required.' };
  if (Object.keys(errors).length === 0) return checked;
  return { values: {}, errors: errors as never };
};

/** A new connection: a secret sent as `Authorization: Bearer {secret}`, every method and path allowed. */
export const emptyConnectionForm: ConnectionForm = {
  name: '',
  base_url: 'https://',
  credential: 'secret',
  secret: '',
  authorization_url: '',
  token_url: '',
  revocation_url: '',
  client_id: '',
  client_secret: '',
  scopes: '',
  injection: 'header',
  header_name: 'Authorization',
  template: 'Bearer {secret}',
  query_name: 'key',
  methods: [],
  paths: '',
  description: '',
};
