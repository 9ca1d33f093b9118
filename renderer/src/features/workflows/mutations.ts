import { useMutation, useQueryClient } from '@tanstack/react-query';
import { userKeys } from '../users/queries.js';
import { workflowKeys } from './queries.js';

/** A workflow created or deleted: the project's workflows change, and a deletion takes its agent users with it. */
export function useWorkflowsChange<V>(projectId: string, run: (variables: V) => Promise<unknown>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: run,
    onSuccess: () =>
      Promise.all([
        client.invalidateQueries({ queryKey: workflowKeys.project(projectId) }),
        client.invalidateQueries({ queryKey: userKeys.all }),
      ]),
  });
}
