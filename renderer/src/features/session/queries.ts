import { queryOptions } from '@tanstack/react-query';
import { ApiError } from '../../api.js';

export const sessionKeys = {
  all: ['session'] as const,
};

export const sessionQueries = {
  state: () =>
    queryOptions({
      queryKey: sessionKeys.all,
      queryFn: async () => {
        const result = await window.gatehouse.session.state();
        if (!result.ok) throw new ApiError(result.problem);
        return result.data;
      },
    }),
};
