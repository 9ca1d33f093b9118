import { queryOptions } from '@tanstack/react-query';
import { ApiError, call } from '../../api.js';

export const settingsKeys = {
  status: ['status'] as const,
  shell: ['shell'] as const,
};

export const settingsQueries = {
  status: () =>
    queryOptions({ queryKey: settingsKeys.status, queryFn: () => call('status', {}), refetchInterval: 10_000 }),
  shell: () =>
    queryOptions({
      queryKey: settingsKeys.shell,
      queryFn: async () => {
        const result = await window.gatehouse.shell();
        if (!result.ok) throw new ApiError(result.problem);
        return result.data;
      },
    }),
};
