import { queryOptions } from '@tanstack/react-query';
import { page } from '../../api.js';

export const userKeys = {
  all: ['users'] as const,
  lists: () => [...userKeys.all, 'list'] as const,
};

export const userQueries = {
  list: () =>
    queryOptions({ queryKey: userKeys.lists(), queryFn: () => page('listUsers', { query: { limit: 1000 } }) }),
};
