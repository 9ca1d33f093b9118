import { routes } from '@gatehouse/shared';
import { implement } from '../route-binding.js';

export const limitsRoutes = [
  implement(routes.listLimits, async ({ services, auth, params }) => services.limits.list(auth.project, params.name)),

  implement(routes.setLimit, async ({ services, auth, params, body }) =>
    services.limits.set(auth.project, params.name, body, auth.actor),
  ),

  implement(routes.deleteLimit, async ({ services, auth, params }) =>
    services.limits.delete(auth.project, params.name, params.limit_id, auth.actor),
  ),
];
