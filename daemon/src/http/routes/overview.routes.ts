import { routes } from '@gatehouse/shared';
import { implement } from '../route-binding.js';

export const overviewRoutes = [
  implement(routes.getOverview, async ({ services, auth }) => services.overview.overview(auth.project.id)),

  implement(routes.getAgentActivity, async ({ services, auth, params }) => {
    const agent = await services.agents.find(auth.project.id, params.name);
    return services.overview.activity({ projectId: auth.project.id, agentId: agent.id });
  }),
];
