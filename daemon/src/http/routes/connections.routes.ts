import { routes } from '@gatehouse/shared';
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
];
