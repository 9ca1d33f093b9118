import { routes } from '@gatehouse/shared';
import { implement, pageOf } from '../route-binding.js';

export const oauthRoutes = [
  implement(routes.getOAuthRequest, async ({ services, params }) => services.oauth.show(params.uid)),

  implement(routes.approveOAuthRequest, async ({ services, auth, params, body }) => {
    const agent = body.create_agent
      ? (await services.agents.create(auth.project, { name: body.agent }, { issueKey: false }, auth.actor)).agent
      : await services.agents.find(auth.project.id, body.agent);
    return services.oauth.approve(params.uid, agent, auth.project.id, auth.actor);
  }),

  implement(routes.denyOAuthRequest, async ({ services, auth, params }) =>
    services.oauth.deny(params.uid, auth.project.id, auth.actor),
  ),

  implement(routes.listConnectedClients, async ({ services, auth, params, query }) =>
    pageOf(await services.oauth.connectedClients(await services.agents.find(auth.project.id, params.name)), query),
  ),

  implement(routes.revokeConnectedClient, async ({ services, auth, params }) => {
    const agent = await services.agents.find(auth.project.id, params.name);
    await services.oauth.disconnect(agent, params.client_id, auth.project.id, auth.actor);
  }),

  implement(routes.getRegistrationPolicy, async ({ services }) => services.oauth.registrationPolicy()),

  implement(routes.setRegistrationPolicy, async ({ services, auth, body }) =>
    services.oauth.setRegistrationPolicy(body, auth.actor),
  ),

  implement(routes.preRegisterOAuthClient, async ({ services, auth, body }) =>
    services.oauth.preRegister(body, auth.actor),
  ),

  implement(routes.listPreRegisteredClients, async ({ services, query }) =>
    pageOf(await services.oauth.preRegisteredClients(), query),
  ),

  implement(routes.deletePreRegisteredClient, async ({ services, auth, params }) =>
    services.oauth.deletePreRegistered(params.client_id, auth.actor),
  ),
];
