import { useMutation, useQueryClient } from '@tanstack/react-query';
import { agentKeys } from '../agents/queries.js';
import { toolKeys } from '../tools/queries.js';
import { serverKeys } from './queries.js';

/**
 * A change to a project's servers: their tools join or leave the tool registry, and with them
 * what the project's agents may use.
 */
export function useServerMutation<T, V = void>(projectId: string, run: (variables: V) => Promise<T>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: run,
    onSuccess: () =>
      Promise.all([
        client.invalidateQueries({ queryKey: serverKeys.project(projectId) }),
        client.invalidateQueries({ queryKey: toolKeys.all }),
        client.invalidateQueries({ queryKey: agentKeys.project(projectId) }),
      ]),
  });
}
