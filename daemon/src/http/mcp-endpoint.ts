import type { AuthorizeResult } from '@gatehouse/shared';
import type { FastifyInstance } from 'fastify';
import type { AgentAuthContext } from './authenticate.js';
import { sendProblem } from './problems.js';
import { authenticateGateway } from './resource-auth.js';
import type { Services } from './services.js';

/** Where agents reach the MCP gateway (Streamable HTTP). */
export const MCP_PATH = '/mcp';

/**
 * `/mcp`: the MCP gateway's Streamable HTTP endpoint; `/mcp/<server>` serves the same agent only that
 * server's tools, prompts and resources, named as the server names them (for a client that expects
 * the server's own names, such as the MCP conformance suite). Each request (POST, the GET event stream,
 * DELETE of a session) is authenticated as an agent first — by its own key or token (a refused one
 * is answered 401 and audited like on every other route) or by an OAuth access token the admin's
 * consent issued for it; with no credential, 401 with the challenge that starts an MCP client's
 * OAuth discovery — then its tool calls are counted against the agent's usage limits, and it is
 * handed to the gateway, which speaks MCP on the raw response. It is not a contract route: its
 * bodies are MCP's JSON-RPC, not Gatehouse's.
 */
export function registerMcpEndpoint(app: FastifyInstance, services: Services): void {
  for (const url of [MCP_PATH, `${MCP_PATH}/:server`])
    app.route<{ Params: { server?: string } }>({
      method: ['GET', 'POST', 'DELETE'],
      url,
      schema: { hide: true },
      handler: async (request, reply) => {
        const auth = await authenticateGateway(services, request, reply);
        if (!auth) return reply;
        const server = request.params.server ?? null;
        const { limit, verdicts } = await countToolCalls(services, auth, server, request.body);
        if (limit && !limit.allowed)
          return sendProblem(reply, 'limit_reached', limit.detail, { headers: limit.headers });
        for (const [name, value] of Object.entries(limit?.headers ?? {})) reply.raw.setHeader(name, value);
        reply.hijack();
        await services.mcpGateway.handle(request.raw, reply.raw, request.body, {
          agent: auth.agent,
          project: auth.project,
          tokenTools: auth.claims?.tools ?? null,
          actor: auth.actor,
          server,
          verdicts,
        });
      },
    });
}

type LimitDecision = Awaited<ReturnType<Services['limits']['check']>>;

/**
 * Usage limits count tool calls as the broker counts requests: every `tools/call` the agent may
 * make (granted, or waiting for a human's approval) counts against the agent's and its key's
 * limits, before MCP sees it, so that over a limit the POST is a 429 with `Retry-After` and the
 * RateLimit headers on the gateway as on the broker. Calls it may not make are refused by the
 * gateway and not counted. The permission model's verdict on each tool goes to the gateway with
 * the request, which decides the call on it rather than asking again.
 */
async function countToolCalls(
  services: Services,
  auth: AgentAuthContext,
  server: string | null,
  body: unknown,
): Promise<{ limit: LimitDecision | null; verdicts: Map<string, AuthorizeResult> }> {
  let limit: LimitDecision | null = null;
  const verdicts = new Map<string, AuthorizeResult>();
  for (const message of Array.isArray(body) ? body : [body]) {
    const called = toolCalled(message);
    if (called === null) continue;
    const tool = server === null ? called : `${server}.${called}`;
    let verdict = verdicts.get(tool);
    if (!verdict) {
      verdict = await services.permissions.authorize(auth.agent, tool, auth.claims?.tools ?? null);
      verdicts.set(tool, verdict);
    }
    if (!verdict.allowed && !verdict.approval_required) continue;
    limit = await services.limits.check({ agentId: auth.agent.id, keyId: auth.keyId, connection: null });
    if (!limit.allowed) return { limit, verdicts };
  }
  return { limit, verdicts };
}

/** The tool a JSON-RPC `tools/call` request names, or null for any other message. */
function toolCalled(message: unknown): string | null {
  if (typeof message !== 'object' || message === null) return null;
  const { method, params } = message as { method?: unknown; params?: { name?: unknown } };
  return method === 'tools/call' && typeof params?.name === 'string' ? params.name : null;
}
