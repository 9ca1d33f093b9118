import { QueryClient, type QueryKey } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
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
import { invalidateFor } from './live-updates.js';

/** The queries the console holds, by the factories that name them. */
const held: Record<string, QueryKey> = {
  agentList: agentKeys.list('p1', { limit: 50 }),
  agentDetail: agentKeys.detail('p1', 'researcher'),
  agentKeys: agentKeys.keys('p1', 'researcher'),
  approvals: approvalKeys.list('p1', { limit: 50 }),
  audit: auditKeys.list('p1', { limit: 50 }),
  workflows: workflowKeys.lists('p1'),
  graph: workflowKeys.graph('p1', 'pipeline'),
  connections: connectionKeys.lists('p1'),
  tools: toolKeys.lists(),
  roles: roleKeys.lists(),
  users: userKeys.lists(),
  projects: projectKeys.lists(),
  members: projectKeys.members('p1'),
  servers: serverKeys.lists('p1'),
  overview: overviewKeys.summary('p1'),
  agentActivity: overviewKeys.agentActivity('p1', 'researcher'),
  otherProjectsAgents: agentKeys.list('p2', { limit: 50 }),
};

async function staleAfter(category: string): Promise<string[]> {
  const client = new QueryClient();
  for (const key of Object.values(held)) client.setQueryData(key, []);
  await invalidateFor(client, 'p1', category);
  return Object.entries(held)
    .filter(([, key]) => client.getQueryState(key)?.isInvalidated)
    .map(([name]) => name)
    .sort();
}

describe('live updates', () => {
  it.each([
    ['agent', ['agentActivity', 'agentDetail', 'agentKeys', 'agentList', 'audit', 'overview']],
    ['key', ['agentActivity', 'agentDetail', 'agentKeys', 'agentList', 'audit', 'overview']],
    ['tool', ['agentDetail', 'agentKeys', 'agentList', 'audit', 'roles', 'tools']],
    ['role', ['agentDetail', 'agentKeys', 'agentList', 'audit', 'roles']],
    ['connection', ['agentDetail', 'agentKeys', 'agentList', 'audit', 'connections', 'tools']],
    ['approval', ['agentActivity', 'approvals', 'audit', 'overview']],
    ['server', ['agentDetail', 'agentKeys', 'agentList', 'audit', 'servers', 'tools']],
    ['workflow', ['audit', 'graph', 'workflows']],
    ['agent_user', ['audit', 'graph', 'users', 'workflows']],
    ['user', ['audit', 'users']],
    ['project', ['audit', 'members', 'projects']],
    ['auth', ['audit']],
  ])('a %s change refreshes exactly what it concerns, in this project', async (category, expected) => {
    expect(await staleAfter(category)).toEqual(expected);
  });
});
