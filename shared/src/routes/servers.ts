import { Empty } from '../schemas/common.js';
import {
  CreateServerRequest,
  McpServer,
  McpServerList,
  ServerParams,
  UpdateServerRequest,
} from '../schemas/servers.js';
import { defineRoutes } from '../route.js';

/** MCP tool servers of a project, whose tools become Gatehouse tools `<server>.<tool>`. */
export const serversRoutes = defineRoutes({
  listServers: {
    method: 'GET',
    path: '/v1/servers',
    auth: 'project_member',
    tag: 'servers',
    summary: "The project's MCP servers, with status, last error and discovered tools",
    response: { 200: McpServerList },
  },
  getServer: {
    method: 'GET',
    path: '/v1/servers/{name}',
    auth: 'project_member',
    tag: 'servers',
    summary: 'One MCP server',
    params: ServerParams,
    response: { 200: McpServer },
  },
  createServer: {
    method: 'POST',
    path: '/admin/servers',
    auth: 'project_admin',
    tag: 'servers',
    summary: 'Register an MCP server (stdio: started by the daemon; http: Streamable HTTP upstream)',
    body: CreateServerRequest,
    response: { 201: McpServer },
  },
  updateServer: {
    method: 'PATCH',
    path: '/admin/servers/{name}',
    auth: 'project_admin',
    tag: 'servers',
    summary: 'Change an MCP server; it restarts with the new settings',
    params: ServerParams,
    body: UpdateServerRequest,
    response: { 200: McpServer },
  },
  deleteServer: {
    method: 'DELETE',
    path: '/admin/servers/{name}',
    auth: 'project_admin',
    tag: 'servers',
    summary: 'Stop and remove an MCP server, its keychain entries and its tools',
    params: ServerParams,
    response: { 204: Empty },
  },
});
