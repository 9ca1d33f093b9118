import { routes } from '@gatehouse/shared';
import type { KeyOwner } from '../../domain/agents/agent-keys.service.js';
import type { AuthContext } from '../authenticate.js';
import { implement, pageOf } from '../route-binding.js';
import type { Services } from '../services.js';

const owner = async (services: Services, auth: AuthContext, name: string): Promise<KeyOwner> => ({
  agent: await services.agents.find(auth.project.id, name),
  projectSlug: auth.project.slug,
});

export const keysRoutes = [
  implement(routes.listKeys, async ({ services, auth, params, query }) =>
    pageOf(await services.agentKeys.list(await services.agents.find(auth.project.id, params.name)), query),
  ),

  implement(routes.createKey, async ({ services, auth, params, body }) =>
    services.agentKeys.create(await owner(services, auth, params.name), body, auth.actor),
  ),

  implement(routes.rotateKey, async ({ services, auth, params, body }) =>
    services.agentKeys.rotate(await owner(services, auth, params.name), params.key_id, body, auth.actor),
  ),

  implement(routes.revokeKey, async ({ services, auth, params }) =>
    services.agentKeys.revoke(await owner(services, auth, params.name), params.key_id, auth.actor),
  ),
];
