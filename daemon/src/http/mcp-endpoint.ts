import type { FastifyInstance } from 'fastify';
import { authenticate, type AgentAuthContext } from './authenticate.js';
import type { Services } from './services.js';

/** Where agents reach the MCP gateway (Streamable HTTP). */
export const MCP_PATH = '/mcp';

/**
 * `/mcp`: the MCP gateway's Streamable HTTP endpoint. Each request (POST, the GET event stream,
 * DELETE of a session) is authenticated as an agent first — a refused credential is answered 401
 * and audited like on every other route — and then handed to the gateway, which speaks MCP on the
 * raw response. It is not a contract route: its bodies are MCP's JSON-RPC, not Gatehouse's.
 */
export function registerMcpEndpoint(app: FastifyInstance, services: Services): void {
  app.route({
    method: ['GET', 'POST', 'DELETE'],
    url: MCP_PATH,
    schema: { hide: true },
    handler: async (request, reply) => {
      const auth = (await authenticate(services, request, 'agent')) as AgentAuthContext;
      reply.hijack();
      await services.mcpGateway.handle(request.raw, reply.raw, request.body, {
        agent: auth.agent,
        project: auth.project,
        tokenTools: auth.claims?.tools ?? null,
        actor: auth.actor,
      });
    },
  });
}
