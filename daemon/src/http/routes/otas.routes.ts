import { routes, type Agent } from '@gatehouse/shared';
import { anonymousActor } from '../../domain/actor.js';
import { ProblemError } from '../../errors.js';
import { implement } from '../route-binding.js';
import type { Services } from '../services.js';

/** Every agent of a project, read a page at a time (OTAS's list has no paging). */
async function allAgents(services: Services, projectId: string): Promise<Agent[]> {
  const agents: Agent[] = [];
  for (;;) {
    const { items, total } = await services.agents.list(projectId, { limit: 1000, offset: agents.length });
    agents.push(...items);
    if (items.length === 0 || agents.length >= total) return agents;
  }
}

/** The OTAS seed's login and agent creation, answered in OTAS's envelope (SPEC §6). */
export const otasRoutes = [
  implement(routes.otasLogin, async ({ services, body, request }) => {
    const client = { source: request.ip, userAgent: request.headers['user-agent'] ?? null };
    const tokens = await services.sessions.login({ username: body.email, password: body.password }, client);
    const { user } = (await services.sessions.authenticate(tokens.access_token))!;
    return {
      status: 1 as const,
      status_description: 'login_success' as const,
      response: { user: { id: user.id, username: user.username, email: user.email }, jwt_token: tokens.access_token },
    };
  }),

  implement(routes.otasCreateAgent, async ({ services, auth, body }) => {
    const { agent, key } = await services.agents.create(
      auth.project,
      { name: body.agent_name, description: body.agent_description ?? null, provider: body.agent_provider },
      { issueKey: true },
      auth.actor,
    );
    return {
      status: 1 as const,
      status_description: 'agent_created' as const,
      response: {
        agent: {
          id: agent.id,
          name: agent.name,
          description: agent.description,
          provider: agent.provider,
          project_id: agent.project_id,
          created_by: agent.created_by,
          created_at: agent.created_at,
        },
        agent_key: {
          id: key!.id,
          prefix: key!.prefix,
          api_key: key!.api_key,
          agent_id: agent.id,
          created_at: key!.created_at,
          expires_at: key!.expires_at,
          active: key!.active,
        },
      },
    };
  }),

  implement(routes.otasAuthenticateUser, async ({ auth }) => ({
    status: 1 as const,
    status_description: 'user_authenticated' as const,
    response_body: {
      user: {
        id: auth.user.id,
        username: auth.user.username,
        first_name: auth.user.first_name,
        email: auth.user.email,
        created_at: auth.user.created_at,
      },
    },
  })),

  implement(routes.otasListAgents, async ({ services, auth }) => {
    const agents = await allAgents(services, auth.project.id);
    return {
      status: 1 as const,
      status_description: 'agents_listed' as const,
      response: {
        project_id: auth.project.id,
        agents: await Promise.all(
          agents.map(async (agent) => {
            const keys = await services.agentKeys.list(await services.agents.find(auth.project.id, agent.id));
            return {
              id: agent.id,
              name: agent.name,
              description: agent.description,
              provider: agent.provider,
              created_at: agent.created_at,
              created_by: agent.created_by,
              is_active: agent.status === 'active',
              agent_keys: keys.map((key) => ({
                id: key.id,
                prefix: key.prefix,
                name: key.label,
                created_at: key.created_at,
                expires_at: key.expires_at,
                active: key.active,
              })),
            };
          }),
        ),
      },
    };
  }),

  implement(routes.otasCreateAgentSession, async ({ services, request }) => {
    const key = request.headers['x-otas-agent-key'];
    if (typeof key !== 'string' || key === '')
      throw new ProblemError('unauthorized', 'Send the key as X-OTAS-AGENT-KEY.');
    // The key names its agent; tokenForKey checks it again, counts its use and records a failure as any sign-in's.
    const check = await services.agentKeys.check(key);
    const tokens = await services.agentAuth.tokenForKey(
      check.ok ? check.agent.id : (check.agentId ?? ''),
      key,
      anonymousActor(request.ip),
    );
    return {
      status: 1 as const,
      status_description: 'agent_session_created' as const,
      response: { Header_value: 'X-OTAS-AGENT-SESSION-TOKEN' as const, jwt_token: tokens.access_token },
    };
  }),
];
