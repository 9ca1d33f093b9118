import { useMutation, useQueryClient } from '@tanstack/react-query';
import { agentKeys } from '../agents/queries.js';
import { roleKeys, toolKeys } from './queries.js';

/**
 * A change to the registry: a tool's removal also leaves the roles bundling it, and every agent's
 * effective tools follow either, in every project.
 */
export function useRegistryChange<V>(run: (variables: V) => Promise<unknown>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: run,
    onSuccess: () =>
      Promise.all([
        client.invalidateQueries({ queryKey: toolKeys.all }),
        client.invalidateQueries({ queryKey: roleKeys.all }),
        client.invalidateQueries({ queryKey: agentKeys.all }),
      ]),
  });
}
