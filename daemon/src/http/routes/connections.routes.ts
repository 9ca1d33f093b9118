import { routes } from '@gatehouse/shared';
import { anonymousActor } from '../../domain/actor.js';
import { implement, pageOf } from '../route-binding.js';

export const connectionsRoutes = [
  implement(routes.listConnections, async ({ services, auth, query }) =>
    pageOf(await services.connections.list(auth.project), query),
  ),

  implement(routes.getConnection, async ({ services, auth, params }) =>
    services.connections.get(auth.project, params.connection),
  ),

  implement(routes.createConnection, async ({ services, auth, body }) =>
    services.connections.create(auth.project, body, auth.actor),
  ),

  implement(routes.deleteConnection, async ({ services, auth, params }) =>
    services.connections.delete(auth.project, params.connection, auth.actor),
  ),

  // The redirect goes to the address the admin reached the daemon at (the host guard vouched for it).
  implement(routes.startConnectionOAuth, async ({ services, auth, params, request }) =>
    services.connections.startOAuth(
      auth.project,
      params.connection,
      `${request.protocol}://${request.host}${routes.connectionOAuthCallback.path}`,
    ),
  ),

  implement(routes.connectionOAuthCallback, async ({ services, query, request }) =>
    services.connections.completeOAuth(query, anonymousActor(request.ip)),
  ),

  implement(routes.revokeConnectionOAuth, async ({ services, auth, params }) =>
    services.connections.revokeOAuth(auth.project, params.connection, auth.actor),
  ),

  implement(routes.listConnectionGrants, async ({ services, auth, params, query }) =>
    pageOf(await services.connectionGrants.list(auth.project, params.connection), query),
  ),
  implement(routes.setAgentConnectionGrant, async ({ services, auth, params, body }) =>
    services.connectionGrants.setForAgent(auth.project, params.connection, params.agent, body, auth.actor),
  ),
  implement(routes.revokeAgentConnectionGrant, async ({ services, auth, params }) =>
    services.connectionGrants.revokeFromAgent(auth.project, params.connection, params.agent, auth.actor),
  ),
  implement(routes.setRoleConnectionGrant, async ({ services, auth, params, body }) =>
    services.connectionGrants.setForRole(auth.project, params.connection, params.role, body, auth.actor),
  ),
  implement(routes.revokeRoleConnectionGrant, async ({ services, auth, params }) =>
    services.connectionGrants.revokeFromRole(auth.project, params.connection, params.role, auth.actor),
  ),
];
