import { queryOptions } from '@tanstack/react-query';
import { call, WHOLE } from '../../api.js';

/** Every connection query of a project sits under `connectionKeys.project(id)`. */
export const connectionKeys = {
  all: ['connections'] as const,
  project: (projectId: string) => [...connectionKeys.all, projectId] as const,
  lists: (projectId: string) => [...connectionKeys.project(projectId), 'list'] as const,
  grants: (projectId: string, connection: string) =>
    [...connectionKeys.project(projectId), 'grants', connection] as const,
};

export const connectionQueries = {
  list: (projectId: string) =>
    queryOptions({
      queryKey: connectionKeys.lists(projectId),
      queryFn: () => call('listConnections', { projectId, query: WHOLE }),
    }),
  grants: (projectId: string, connection: string) =>
    queryOptions({
      queryKey: connectionKeys.grants(projectId, connection),
      queryFn: () => call('listConnectionGrants', { projectId, params: { connection }, query: WHOLE }),
    }),
};
