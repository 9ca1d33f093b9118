import { queryOptions } from '@tanstack/react-query';
import type { McpServer } from '@gatehouse/shared';
import { call } from '../../api.js';

/** Every server query of a project sits under `serverKeys.project(id)`. */
export const serverKeys = {
  all: ['servers'] as const,
  project: (projectId: string) => [...serverKeys.all, projectId] as const,
  lists: (projectId: string) => [...serverKeys.project(projectId), 'list'] as const,
};

/** While a server starts, its status changes without an event: the list looks again each second. */
const STARTING_POLL_MS = 1000;

export const serverQueries = {
  list: (projectId: string) =>
    queryOptions({
      queryKey: serverKeys.lists(projectId),
      queryFn: () => call('listServers', { projectId }),
      refetchInterval: (query) =>
        (query.state.data as McpServer[] | undefined)?.some((server) => server.status === 'starting')
          ? STARTING_POLL_MS
          : false,
    }),
};
