import { queryOptions } from '@tanstack/react-query';
import { call, WHOLE } from '../../api.js';

export const projectKeys = {
  all: ['projects'] as const,
  lists: () => [...projectKeys.all, 'list'] as const,
  members: (projectId: string) => [...projectKeys.all, projectId, 'members'] as const,
};

export const projectQueries = {
  list: () => queryOptions({ queryKey: projectKeys.lists(), queryFn: () => call('listProjects', { query: WHOLE }) }),
  members: (projectId: string) =>
    queryOptions({
      queryKey: projectKeys.members(projectId),
      queryFn: () => call('listMembers', { params: { id: projectId }, query: WHOLE }),
    }),
};
