import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import type { AgentStatus } from '@gatehouse/shared';
import { call, page, WHOLE } from '../../api.js';

/** What the agents list is narrowed to; each filter is its own cache entry. */
export interface AgentFilter {
  status?: AgentStatus;
  q?: string;
  offset?: number;
  /** The page after the one that gave this cursor; `offset` is then where it starts, for the pager. */
  cursor?: string;
  limit: number;
}

/** Every agent query of a project sits under `agentKeys.project(id)`: one invalidation reaches them all. */
export const agentKeys = {
  all: ['agents'] as const,
  project: (projectId: string) => [...agentKeys.all, projectId] as const,
  lists: (projectId: string) => [...agentKeys.project(projectId), 'list'] as const,
  list: (projectId: string, filter: AgentFilter) => [...agentKeys.lists(projectId), filter] as const,
  details: (projectId: string) => [...agentKeys.project(projectId), 'detail'] as const,
  detail: (projectId: string, name: string) => [...agentKeys.details(projectId), name] as const,
  keys: (projectId: string, name: string) => [...agentKeys.detail(projectId, name), 'keys'] as const,
  permissions: (projectId: string, name: string) => [...agentKeys.detail(projectId, name), 'permissions'] as const,
  limits: (projectId: string, name: string) => [...agentKeys.detail(projectId, name), 'limits'] as const,
};

/**
 * How often a shown limit's current use is read again: the counters change with every call, and
 * calls announce no event (one per call would flood the stream).
 */
export const LIMITS_REFRESH_MS = 5_000;

export const agentQueries = {
  list: (projectId: string, filter: AgentFilter) =>
    queryOptions({
      queryKey: agentKeys.list(projectId, filter),
      queryFn: () =>
        page('listAgents', {
          projectId,
          query: {
            limit: filter.limit,
            ...(filter.cursor ? { cursor: filter.cursor } : filter.offset ? { offset: filter.offset } : {}),
            ...(filter.status ? { status: filter.status } : {}),
            ...(filter.q ? { q: filter.q } : {}),
          },
        }),
      placeholderData: keepPreviousData,
    }),
  detail: (projectId: string, name: string) =>
    queryOptions({
      queryKey: agentKeys.detail(projectId, name),
      queryFn: () => call('getAgent', { projectId, params: { name } }),
    }),
  keys: (projectId: string, name: string) =>
    queryOptions({
      queryKey: agentKeys.keys(projectId, name),
      queryFn: () => call('listKeys', { projectId, params: { name }, query: WHOLE }),
    }),
  permissions: (projectId: string, name: string) =>
    queryOptions({
      queryKey: agentKeys.permissions(projectId, name),
      queryFn: () => call('getAgentPermissions', { projectId, params: { name } }),
    }),
  limits: (projectId: string, name: string) =>
    queryOptions({
      queryKey: agentKeys.limits(projectId, name),
      queryFn: () => call('listLimits', { projectId, params: { name } }),
      refetchInterval: LIMITS_REFRESH_MS,
    }),
};
