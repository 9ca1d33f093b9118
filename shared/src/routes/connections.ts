import { PageQuery } from '../schemas/common.js';
import { Connection, ConnectionList, ConnectionParams, CreateConnectionRequest } from '../schemas/connections.js';
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
});
