import { Type, type Static } from 'typebox';
import { Timestamp } from './common.js';

/** A pending authorization request, as the consent page shows it to the admin. */
export const OAuthRequest = Type.Object({
  client_id: Type.String(),
  client_name: Type.Union([Type.String(), Type.Null()]),
  redirect_uri: Type.String(),
  scopes: Type.Array(Type.String()),
  resource: Type.Union([Type.String(), Type.Null()]),
});
export type OAuthRequest = Static<typeof OAuthRequest>;

export const OAuthRequestParams = Type.Object({ uid: Type.String({ minLength: 1, maxLength: 100 }) });
export type OAuthRequestParams = Static<typeof OAuthRequestParams>;

/** The admin's approval: the agent (of the admin's project) the client will act as, made now if asked. */
export const OAuthApproval = Type.Object({
  agent: Type.String({ minLength: 1, maxLength: 128 }),
  create_agent: Type.Optional(Type.Boolean({ description: 'Create an agent of this name first' })),
});
export type OAuthApproval = Static<typeof OAuthApproval>;

/** Where the browser that started the request goes next: back to the authorization endpoint. */
export const OAuthAnswer = Type.Object({ redirect_to: Type.String() });
export type OAuthAnswer = Static<typeof OAuthAnswer>;

/** A client holding an agent's grant. */
export const ConnectedClient = Type.Object({
  client_id: Type.String(),
  client_name: Type.Union([Type.String(), Type.Null()]),
  scopes: Type.Array(Type.String()),
  connected_at: Timestamp,
  expires_at: Timestamp,
});
export type ConnectedClient = Static<typeof ConnectedClient>;
export const ConnectedClientList = Type.Array(ConnectedClient);

export const ConnectedClientParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128 }),
  client_id: Type.String({ minLength: 1, maxLength: 2048 }),
});
export type ConnectedClientParams = Static<typeof ConnectedClientParams>;

/** Which ways of registering a client are on; each is the admin's to switch. */
export const RegistrationPolicy = Type.Object({
  pre_registered_clients: Type.Boolean({ description: 'Clients an admin registered (console, CLI, API)' }),
  dynamic_registration: Type.Boolean({ description: 'Dynamic Client Registration (RFC 7591)' }),
  client_id_metadata_documents: Type.Boolean({ description: 'Client ID Metadata Documents' }),
});
export type RegistrationPolicy = Static<typeof RegistrationPolicy>;

export const PreRegisterClient = Type.Object({
  client_name: Type.String({ minLength: 1, maxLength: 200 }),
  redirect_uris: Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { minItems: 1, maxItems: 10 }),
  confidential: Type.Optional(
    Type.Boolean({
      default: false,
      description: 'A confidential client authenticates at the token endpoint with a secret (shown once)',
    }),
  ),
});
export type PreRegisterClient = Static<typeof PreRegisterClient>;

export const PreRegisteredClient = Type.Object({
  client_id: Type.String(),
  client_name: Type.String(),
  redirect_uris: Type.Array(Type.String()),
  confidential: Type.Boolean(),
  created_at: Timestamp,
});
export type PreRegisteredClient = Static<typeof PreRegisteredClient>;
export const PreRegisteredClientList = Type.Array(PreRegisteredClient);

/** A client just registered: a confidential one's secret, shown this once and stored only as a hash. */
export const RegisteredClient = Type.Object({
  ...PreRegisteredClient.properties,
  client_secret: Type.Union([Type.String(), Type.Null()]),
});
export type RegisteredClient = Static<typeof RegisteredClient>;

export const PreRegisteredClientParams = Type.Object({ client_id: Type.String({ minLength: 1, maxLength: 200 }) });
export type PreRegisteredClientParams = Static<typeof PreRegisteredClientParams>;
