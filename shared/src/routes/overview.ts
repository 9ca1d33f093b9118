import { AgentParams } from '../schemas/agents.js';
import { Activity, Overview } from '../schemas/overview.js';
import { defineRoutes } from '../route.js';

export const overviewRoutes = defineRoutes({
  getOverview: {
    method: 'GET',
    path: '/v1/overview',
    auth: 'project_member',
    tag: 'overview',
    summary: "The project at a glance: agents, keys that need attention, the last day's and week's activity",
    response: { 200: Overview },
  },
  getAgentActivity: {
    method: 'GET',
    path: '/v1/agents/{name}/activity',
    auth: 'project_member',
    tag: 'overview',
    summary: "One agent's activity over the last day and week, in the overview's buckets",
    params: AgentParams,
    response: { 200: Activity },
  },
});
