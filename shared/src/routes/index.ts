import { agentAuthRoutes } from './agent-auth.js';
import { agentsRoutes } from './agents.js';
import { approvalsRoutes } from './approvals.js';
import { auditRoutes } from './audit.js';
import { authRoutes } from './auth.js';
import { keysRoutes } from './keys.js';
import { oauthRoutes } from './oauth.js';
import { otasRoutes } from './otas.js';
import { permissionsRoutes } from './permissions.js';
import { projectsRoutes } from './projects.js';
import { serversRoutes } from './servers.js';
import { systemRoutes } from './system.js';
import { usersRoutes } from './users.js';
import { workflowsRoutes } from './workflows.js';
import { connectionsRoutes } from './connections.js';
import { consoleRoutes } from './console.js';
import { limitsRoutes } from './limits.js';
import { overviewRoutes } from './overview.js';

/**
 * Every route of the daemon's HTTP API, one file per resource (as `daemon/src/http/routes/`
 * implements them). The key is the OpenAPI `operationId`. The daemon registers exactly these;
 * the OpenAPI document and the clients are derived from them.
 */
export const routes = {
  ...systemRoutes,
  ...authRoutes,
  ...agentAuthRoutes,
  ...usersRoutes,
  ...projectsRoutes,
  ...agentsRoutes,
  ...keysRoutes,
  ...permissionsRoutes,
  ...approvalsRoutes,
  ...workflowsRoutes,
  ...otasRoutes,
  ...auditRoutes,
  ...oauthRoutes,
  ...connectionsRoutes,
  ...limitsRoutes,
  ...consoleRoutes,
  ...serversRoutes,
  ...overviewRoutes,
};

export type Routes = typeof routes;
export type RouteName = keyof Routes;
