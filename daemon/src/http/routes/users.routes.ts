import { routes } from '@gatehouse/shared';
import { implement, pageOf } from '../route-binding.js';

export const usersRoutes = [
  implement(routes.listUsers, async ({ services, query }) => services.users.list(query)),

  implement(routes.createUser, async ({ services, auth, body }) => services.users.create(body, auth.actor)),

  implement(routes.updateUser, async ({ services, auth, params, body }) =>
    services.users.update(params.id, body, auth.actor),
  ),

  implement(routes.deleteUser, async ({ services, auth, params }) => services.users.delete(params.id, auth.actor)),

  implement(routes.listPersonalTokens, async ({ services, auth, params, query }) =>
    pageOf(await services.personalTokens.list(params.id, auth.user), query),
  ),

  implement(routes.createPersonalToken, async ({ services, auth, params, body }) =>
    services.personalTokens.create(params.id, body, auth.actor),
  ),

  implement(routes.revokePersonalToken, async ({ services, auth, params }) =>
    services.personalTokens.revoke(params.id, params.token_id, auth.actor),
  ),
];
