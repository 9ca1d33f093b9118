import { routes } from '@gatehouse/shared';
import { isUserAdmin } from '../../domain/users/users.service.js';
import { implement } from '../route-binding.js';

export const auditRoutes = [
  implement(routes.listAudit, async ({ services, auth, query }) =>
    services.audit.list(query, { projectId: auth.project.id, includeGlobal: isUserAdmin(auth.user) }),
  ),

  implement(routes.verifyAudit, async ({ services }) => services.audit.verify()),
];
