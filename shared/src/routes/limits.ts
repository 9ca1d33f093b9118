import { AgentParams } from '../schemas/agents.js';
import { LimitParams, SetLimitRequest, UsageLimit, UsageLimitList } from '../schemas/limits.js';
import { defineRoutes } from '../route.js';

/** Usage limits per agent, per key and per connection grant (SPEC §11). */
export const limitsRoutes = defineRoutes({
  listLimits: {
    method: 'GET',
    path: '/v1/agents/{name}/limits',
    auth: 'project_member',
    tag: 'limits',
    summary: "An agent's usage limits and their current use",
    params: AgentParams,
    response: { 200: UsageLimitList },
  },
  setLimit: {
    method: 'PUT',
    path: '/admin/agents/{name}/limits',
    auth: 'project_admin',
    tag: 'limits',
    summary: 'Set the limit of an agent, one of its keys (key_id) or its use of a connection (connection)',
    params: AgentParams,
    body: SetLimitRequest,
    response: { 200: UsageLimit },
  },
  deleteLimit: {
    method: 'DELETE',
    path: '/admin/agents/{name}/limits/{limit_id}',
    auth: 'project_admin',
    tag: 'limits',
    summary: 'Remove a limit and its counters',
    params: LimitParams,
    response: { 200: UsageLimit },
  },
});
