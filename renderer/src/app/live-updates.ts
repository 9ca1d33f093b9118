import { useQueryClient, type QueryClient, type QueryKey } from '@tanstack/react-query';
import { useEffect } from 'react';
import { agentKeys } from '../features/agents/queries.js';
import { approvalKeys } from '../features/approvals/queries.js';
import { auditKeys } from '../features/audit/queries.js';
import { connectionKeys } from '../features/connections/queries.js';
import { overviewKeys } from '../features/overview/queries.js';
import { projectKeys } from '../features/projects/queries.js';
import { serverKeys } from '../features/servers/queries.js';
import { roleKeys, toolKeys } from '../features/tools/queries.js';
import { userKeys } from '../features/users/queries.js';
import { workflowKeys } from '../features/workflows/queries.js';

/** Which queries an announced change concerns, by the event's category (its event type's first part). */
const invalidatedBy: Record<string, (projectId: string) => QueryKey[]> = {
  // The overview counts agents and keys, and the approvals asked for.
  agent: (projectId) => [agentKeys.project(projectId), overviewKeys.project(projectId)],
  key: (projectId) => [agentKeys.project(projectId), overviewKeys.project(projectId)],
  // A role's or a tool's change reaches every agent holding it, and the registry lists themselves.
  role: (projectId) => [roleKeys.all, agentKeys.project(projectId)],
  tool: (projectId) => [toolKeys.all, roleKeys.all, agentKeys.project(projectId)],
  // A connection is the tool `connection:<name>`; removing one takes it from every agent.
  connection: (projectId) => [connectionKeys.project(projectId), toolKeys.all, agentKeys.project(projectId)],
  approval: (projectId) => [approvalKeys.project(projectId), overviewKeys.project(projectId)],
  // A server's tools are registry tools, grantable to the project's agents.
  server: (projectId) => [serverKeys.project(projectId), toolKeys.all, agentKeys.project(projectId)],
  workflow: (projectId) => [workflowKeys.project(projectId)],
  // Agent users are users too: the Users list shows them.
  agent_user: (projectId) => [workflowKeys.project(projectId), userKeys.all],
  user: () => [userKeys.all],
  project: () => [projectKeys.all],
};

/** Refreshes what one announced change concerns; every change adds to the audit log. */
export function invalidateFor(client: QueryClient, projectId: string, category: string): Promise<unknown> {
  const keys = [...(invalidatedBy[category]?.(projectId) ?? []), auditKeys.project(projectId)];
  return Promise.all(keys.map((queryKey) => client.invalidateQueries({ queryKey })));
}

/** Follows the daemon's event stream and refreshes the queries each change concerns. */
export function useLiveUpdates(projectId: string | null): void {
  const client = useQueryClient();
  useEffect(() => {
    if (!projectId) return;
    return window.gatehouse.events(projectId, ({ category }) => void invalidateFor(client, projectId, category));
  }, [client, projectId]);
}
