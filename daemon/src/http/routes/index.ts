import type { RouteBinding } from '../route-binding.js';
import { agentAuthRoutes } from './agent-auth.routes.js';
import { agentsRoutes } from './agents.routes.js';
import { approvalsRoutes } from './approvals.routes.js';
import { auditRoutes } from './audit.routes.js';
import { authRoutes } from './auth.routes.js';
import { keysRoutes } from './keys.routes.js';
import { oauthRoutes } from './oauth.routes.js';
import { otasRoutes } from './otas.routes.js';
import { permissionsRoutes } from './permissions.routes.js';
import { projectsRoutes } from './projects.routes.js';
import { serversRoutes } from './servers.routes.js';
import { systemRoutes } from './system.routes.js';
import { usersRoutes } from './users.routes.js';
import { workflowsRoutes } from './workflows.routes.js';
import { connectionsRoutes } from './connections.routes.js';
import { limitsRoutes } from './limits.routes.js';
import { consoleRoutes } from './console.routes.js';
import { overviewRoutes } from './overview.routes.js';

/** The implementation of every contract route, one file per resource (as `shared/src/routes/`). */
export const routeBindings: RouteBinding[] = [
  ...systemRoutes,
  ...authRoutes,
  ...usersRoutes,
  ...projectsRoutes,
  ...agentsRoutes,
  ...keysRoutes,
  ...permissionsRoutes,
  ...approvalsRoutes,
  ...workflowsRoutes,
  ...agentAuthRoutes,
  ...otasRoutes,
  ...auditRoutes,
  ...oauthRoutes,
  ...connectionsRoutes,
  ...limitsRoutes,
  ...consoleRoutes,
  ...serversRoutes,
  ...overviewRoutes,
];
