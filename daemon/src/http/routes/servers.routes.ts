import { routes } from '@gatehouse/shared';
import { toServer } from '../../domain/mcp/mcp-servers.service.js';
import { implement } from '../route-binding.js';

export const serversRoutes = [
  implement(routes.listServers, async ({ services, auth }) => services.mcpServers.list(auth.project.id)),

  implement(routes.getServer, async ({ services, auth, params }) =>
    toServer(await services.mcpServers.find(auth.project.id, params.name)),
  ),

  implement(routes.createServer, async ({ services, auth, body }) =>
    services.mcpServers.create(auth.project, body, auth.actor),
  ),

  implement(routes.updateServer, async ({ services, auth, params, body }) =>
    services.mcpServers.update(auth.project, params.name, body, auth.actor),
  ),

  implement(routes.deleteServer, async ({ services, auth, params }) =>
    services.mcpServers.delete(auth.project, params.name, auth.actor),
  ),
];
