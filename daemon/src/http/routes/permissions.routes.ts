import { routes } from '@gatehouse/shared';
import { implement, pageOf } from '../route-binding.js';

/** Tools, grants, capability roles and `/v1/authorize` (SPEC §5). */
export const permissionsRoutes = [
  implement(routes.listTools, async ({ services, query }) => pageOf(await services.permissions.listTools(), query)),
  implement(routes.createTool, async ({ services, auth, body }) => services.permissions.createTool(body, auth.actor)),
  implement(routes.deleteTool, async ({ services, auth, params }) =>
    services.permissions.deleteTool(params.name, auth.actor),
  ),

  implement(routes.grantTools, async ({ services, auth, params, body }) =>
    services.permissions.grant(auth.project, params.name, body.tools, auth.actor),
  ),
  implement(routes.revokeTools, async ({ services, auth, params, body }) =>
    services.permissions.revoke(auth.project, params.name, body.tools, auth.actor),
  ),
  implement(routes.setApprovalRequiredTools, async ({ services, auth, params, body }) =>
    services.permissions.setApprovalRequired(auth.project, params.name, body.tools, auth.actor),
  ),

  implement(routes.listRoles, async ({ services, query }) => pageOf(await services.permissions.listRoles(), query)),
  implement(routes.createRole, async ({ services, auth, body }) => services.permissions.createRole(body, auth.actor)),
  implement(routes.updateRole, async ({ services, auth, params, body }) =>
    services.permissions.updateRole(params.role, body, auth.actor),
  ),
  implement(routes.deleteRole, async ({ services, auth, params }) =>
    services.permissions.deleteRole(params.role, auth.actor),
  ),

  implement(routes.getAgentPermissions, async ({ services, auth, params }) => {
    const agent = await services.agents.find(auth.project.id, params.name);
    const [roles, effective] = await Promise.all([
      services.permissions.rolesOf(agent),
      services.permissions.effectiveTools(agent),
    ]);
    return {
      agent_id: agent.id,
      permissions_version: agent.permissions_version,
      allowed_tools: agent.allowed_tools,
      approval_required_tools: agent.approval_required_tools,
      roles,
      effective_tools: effective,
    };
  }),
  implement(routes.listAgentRoles, async ({ services, auth, params, query }) =>
    pageOf(await services.permissions.rolesOf(await services.agents.find(auth.project.id, params.name)), query),
  ),
  implement(routes.assignRole, async ({ services, auth, params, body }) =>
    services.permissions.rolesOf(
      await services.permissions.assignRole(auth.project, params.name, body.role, auth.actor),
    ),
  ),
  implement(routes.removeRole, async ({ services, auth, params }) =>
    services.permissions.removeRole(auth.project, params.name, params.role, auth.actor),
  ),

  implement(
    routes.authorize,
    ({ services, auth, body }) =>
      services.permissions.authorizeKnown(auth.agent, body.tool, auth.claims?.tools ?? null) ??
      services.permissions.authorize(auth.agent, body.tool, auth.claims?.tools ?? null),
  ),
];
