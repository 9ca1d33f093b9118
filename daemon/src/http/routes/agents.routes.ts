import { routes } from '@gatehouse/shared';
import { toAgent } from '../../domain/agents/agents.service.js';
import type { AuthContext } from '../authenticate.js';
import { implement } from '../route-binding.js';
import type { Services } from '../services.js';

const setStatus = async (services: Services, auth: AuthContext, name: string, to: 'active' | 'suspended') =>
  toAgent(await services.agents.setStatus(auth.project, name, to, auth.actor));

export const agentsRoutes = [
  implement(routes.listAgents, async ({ services, auth, query }) => services.agents.list(auth.project.id, query)),

  implement(routes.getAgent, async ({ services, auth, params }) =>
    toAgent(await services.agents.find(auth.project.id, params.name)),
  ),

  implement(routes.createAgent, async ({ services, auth, body }) => {
    const { issue_key, ...fields } = body;
    const { agent, key } = await services.agents.create(
      auth.project,
      fields,
      { issueKey: issue_key === true },
      auth.actor,
    );
    return key ? { ...agent, agent_key: key } : agent;
  }),

  implement(routes.registerAgent, async ({ services, auth, body }) => {
    const { agent, key } = await services.agents.create(auth.project, body, { issueKey: true }, auth.actor);
    return {
      id: agent.id,
      name: agent.name,
      public_key: agent.public_key,
      key_fingerprint: agent.key_fingerprint,
      secret: key!.api_key,
      scopes: agent.scopes,
      status: agent.status,
      created_at: agent.created_at,
    };
  }),

  implement(routes.updateAgent, async ({ services, auth, params, body }) =>
    services.agents.update(auth.project, params.name, body, auth.actor),
  ),

  implement(routes.deleteAgent, async ({ services, auth, params }) =>
    services.agents.delete(auth.project, params.name, auth.actor),
  ),

  implement(routes.revokeAgent, async ({ services, auth, params }) => {
    const agent = await services.agents.setStatus(auth.project, params.name, 'revoked', auth.actor);
    return { id: agent.id, status: 'revoked' as const, revoked_at: agent.revoked_at! };
  }),

  implement(routes.suspendAgent, ({ services, auth, params }) => setStatus(services, auth, params.name, 'suspended')),
  implement(routes.resumeAgent, ({ services, auth, params }) => setStatus(services, auth, params.name, 'active')),
  implement(routes.suspendAgentV1, ({ services, auth, params }) => setStatus(services, auth, params.name, 'suspended')),
  implement(routes.reactivateAgentV1, ({ services, auth, params }) => setStatus(services, auth, params.name, 'active')),
];
