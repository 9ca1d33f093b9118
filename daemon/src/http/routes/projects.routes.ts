import { routes } from '@gatehouse/shared';
import { implement, pageOf } from '../route-binding.js';

export const projectsRoutes = [
  implement(routes.listProjects, async ({ services, auth, query }) =>
    pageOf(await services.projects.listFor(auth.user), query),
  ),

  implement(routes.createProject, async ({ services, auth, body }) => services.projects.create(body, auth.actor)),

  implement(routes.listMembers, async ({ services, auth, params, query }) =>
    pageOf(await services.projects.members(params.id, auth.user), query),
  ),

  implement(routes.setMember, async ({ services, auth, params, body }) =>
    services.projects.setMember(params.id, params.user_id, body.privilege, auth.actor),
  ),

  implement(routes.removeMember, async ({ services, auth, params }) =>
    services.projects.removeMember(params.id, params.user_id, auth.actor),
  ),
];
