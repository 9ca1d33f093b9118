import { routes } from '@gatehouse/shared';
import { anonymousActor } from '../../domain/actor.js';
import { implement } from '../route-binding.js';

export const agentAuthRoutes = [
  implement(routes.agentToken, async ({ services, body, request }) =>
    services.agentAuth.tokenForKey(body.agent_id, body.secret, anonymousActor(request.ip), { audience: body.audience }),
  ),

  implement(routes.agentRefresh, async ({ services, body, request }) =>
    services.agentAuth.refresh(body.refresh_token, anonymousActor(request.ip)),
  ),

  implement(routes.agentRevoke, async ({ services, body, request }) =>
    services.agentAuth.revoke(body.token, anonymousActor(request.ip)),
  ),

  implement(routes.agentChallenge, async ({ services, body }) => services.agentAuth.challenge(body.agent_id)),

  implement(routes.agentVerify, async ({ services, body, request }) =>
    services.agentAuth.verify(body, anonymousActor(request.ip)),
  ),

  implement(routes.agentTokenExchange, async ({ services, auth, body }) =>
    services.agentAuth.exchange(
      await services.agents.find(auth.project.id, body.agent),
      auth.user,
      body.session_id,
      auth.actor,
    ),
  ),
];
