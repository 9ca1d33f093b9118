import { useMutation, useQueryClient } from '@tanstack/react-query';
import { agentKeys } from './queries.js';

/**
 * A change to one of a project's agents: afterwards every agent query of the project is stale
 * (its list row, its detail, its keys and permissions all show the change).
 */
export function useAgentMutation<T, V = void>(projectId: string, run: (variables: V) => Promise<T>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: run,
    onSuccess: () => client.invalidateQueries({ queryKey: agentKeys.project(projectId) }),
  });
}
