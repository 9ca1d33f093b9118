import { queryOptions } from '@tanstack/react-query';
import { call, WHOLE } from '../../api.js';

/** The tool registry and the capability roles bundling its tools (daemon-wide, not per project). */
export const toolKeys = {
  all: ['tools'] as const,
  lists: () => [...toolKeys.all, 'list'] as const,
};
export const roleKeys = {
  all: ['roles'] as const,
  lists: () => [...roleKeys.all, 'list'] as const,
};

export const toolQueries = {
  list: () => queryOptions({ queryKey: toolKeys.lists(), queryFn: () => call('listTools', { query: WHOLE }) }),
};
export const roleQueries = {
  list: () => queryOptions({ queryKey: roleKeys.lists(), queryFn: () => call('listRoles', { query: WHOLE }) }),
};
