import { queryOptions } from '@tanstack/react-query';
import { call } from '../../api.js';

/**
 * The overview reads the audit chain and the agent tables: the event stream invalidates
 * `overviewKeys.project(id)` when an agent, a key or an approval changes.
 */
export const overviewKeys = {
  all: ['overview'] as const,
  project: (projectId: string) => [...overviewKeys.all, projectId] as const,
  summary: (projectId: string) => [...overviewKeys.project(projectId), 'summary'] as const,
  agentActivity: (projectId: string, name: string) => [...overviewKeys.project(projectId), 'agent', name] as const,
};

/** The figures are per hour and per day: a minute's staleness shows nothing wrong. */
const FIGURES_REFRESH_MS = 60_000;

export const overviewQueries = {
  summary: (projectId: string) =>
    queryOptions({
      queryKey: overviewKeys.summary(projectId),
      queryFn: () => call('getOverview', { projectId }),
      // Calls come by the hundred a second: they move the figures through this refresh, not
      // through an invalidation each.
      refetchInterval: FIGURES_REFRESH_MS,
    }),
  agentActivity: (projectId: string, name: string) =>
    queryOptions({
      queryKey: overviewKeys.agentActivity(projectId, name),
      queryFn: () => call('getAgentActivity', { projectId, params: { name } }),
      refetchInterval: FIGURES_REFRESH_MS,
    }),
};
