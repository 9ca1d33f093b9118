import { routes } from '@gatehouse/shared';
import { implement } from '../route-binding.js';

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
];
