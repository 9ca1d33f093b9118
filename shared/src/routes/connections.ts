import { PageQuery } from '../schemas/common.js';
import {
  Connection,
  ConnectionList,
  ConnectionParams,
  CreateConnectionRequest,
  OAuthCallbackQuery,
  OAuthConnected,
  OAuthStart,
} from '../schemas/connections.js';
import { defineRoutes } from '../route.js';

/**
 * Brokered upstream credentials (SPEC §11). The broker itself, `/proxy/<connection>/<path>`,
 * forwards any method and body as they come, so it is not a contract route: see
 * daemon/src/http/broker.ts.
 */
export const connectionsRoutes = defineRoutes({
  listConnections: {
    method: 'GET',
    path: '/v1/connections',
    auth: 'project_member',
    tag: 'connections',
    summary: "The project's brokered connections (never their secrets)",
    querystring: PageQuery,
    response: { 200: ConnectionList },
    paged: true,
  },
  getConnection: {
    method: 'GET',
    path: '/v1/connections/{connection}',
    auth: 'project_member',
    tag: 'connections',
    summary: 'One connection (never its secret)',
    params: ConnectionParams,
    response: { 200: Connection },
  },
  createConnection: {
    method: 'POST',
    path: '/admin/connections',
    auth: 'project_admin',
    tag: 'connections',
    summary: 'Add a connection: its secret goes to the OS keychain and is never shown again',
    body: CreateConnectionRequest,
    response: { 201: Connection },
  },
  deleteConnection: {
    method: 'DELETE',
    path: '/admin/connections/{connection}',
    auth: 'project_admin',
    tag: 'connections',
    summary: 'Remove a connection, its grants and its secret',
    params: ConnectionParams,
    response: { 200: Connection },
  },
  startConnectionOAuth: {
    method: 'POST',
    path: '/admin/connections/{connection}/oauth/start',
    auth: 'project_admin',
    tag: 'connections',
    summary: "Connect an account of an OAuth connection: open the answer's authorization_url in a browser",
    params: ConnectionParams,
    response: { 200: OAuthStart },
  },
  connectionOAuthCallback: {
    method: 'GET',
    path: '/connections/oauth/callback',
    auth: 'public',
    tag: 'connections',
    summary: "The provider's redirect after the admin consents (authorization code + PKCE)",
    querystring: OAuthCallbackQuery,
    response: { 200: OAuthConnected },
  },
  revokeConnectionOAuth: {
    method: 'POST',
    path: '/admin/connections/{connection}/oauth/revoke',
    auth: 'project_admin',
    tag: 'connections',
    summary: "Disconnect an OAuth connection's account: its refresh token is revoked at the provider and deleted",
    params: ConnectionParams,
    response: { 200: Connection },
  },
});
