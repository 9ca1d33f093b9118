import { useMutation, useQueryClient } from '@tanstack/react-query';
import { agentKeys } from '../agents/queries.js';
import { roleKeys, toolKeys } from '../tools/queries.js';
import { connectionKeys } from './queries.js';

/**
 * A change to a project's connections: each one is also the tool `connection:<name>` in the
 * registry, and removing one takes it from every agent granted it.
 */
export function useConnectionChange<T, V>(projectId: string, run: (variables: V) => Promise<T>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: run,
    onSuccess: () =>
      Promise.all([
        client.invalidateQueries({ queryKey: connectionKeys.project(projectId) }),
        client.invalidateQueries({ queryKey: toolKeys.all }),
        client.invalidateQueries({ queryKey: roleKeys.all }),
        client.invalidateQueries({ queryKey: agentKeys.project(projectId) }),
      ]),
  });
}
