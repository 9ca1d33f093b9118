import * as Tabs from '@radix-ui/react-tabs';
import { useQuery } from '@tanstack/react-query';
import { Link, useNavigate, useParams, useSearch } from '@tanstack/react-router';
import { useProject } from '../../app/project.js';
import { ErrorNote, Loading, StatusBadge } from '../../ui/components.js';
import { ConnectedClients } from '../oauth/ConnectedClients.js';
import { AgentActivity } from './AgentActivity.js';
import { AgentIdentity } from './AgentIdentity.js';
import { AgentKeys } from './AgentKeys.js';
import { AgentLimits } from './AgentLimits.js';
import { AgentOverview } from './AgentOverview.js';
import { AgentPermissions } from './AgentPermissions.js';
import { AgentStatusActions } from './AgentStatusActions.js';
import { agentQueries } from './queries.js';

export const AGENT_TABS = ['Overview', 'Keys', 'Permissions', 'Limits', 'Clients', 'Identity', 'Activity'] as const;
export type AgentTab = (typeof AGENT_TABS)[number];

/** One agent: its state and actions, and a tab per concern (the chosen tab is in the URL). */
export function AgentDetailPage(): React.JSX.Element {
  const projectId = useProject().id;
  const { name } = useParams({ from: '/_project/agents/$name' });
  const { tab = 'Overview' } = useSearch({ from: '/_project/agents/$name' });
  const navigate = useNavigate({ from: '/agents/$name' });
  const agent = useQuery(agentQueries.detail(projectId, name));
  if (agent.isPending) return <Loading />;
  if (agent.isError) return <ErrorNote error={agent.error} />;
  const a = agent.data;
  return (
    <section>
      <p>
        <Link to="/agents">← Agents</Link>
      </p>
      <div className="toolbar">
        <h1>{a.name}</h1>
        <StatusBadge status={a.status} />
        <span className="spacer" />
        <AgentStatusActions projectId={projectId} agent={a} />
      </div>
      <Tabs.Root
        value={tab}
        onValueChange={(next) =>
          void navigate({ search: (prev) => ({ ...prev, tab: next === 'Overview' ? undefined : (next as AgentTab) }) })
        }
      >
        <Tabs.List aria-label="Agent" className="tabs">
          {AGENT_TABS.map((t) => (
            <Tabs.Trigger key={t} value={t}>
              {t}
            </Tabs.Trigger>
          ))}
        </Tabs.List>
        <Tabs.Content value="Overview">
          <AgentOverview projectId={projectId} agent={a} />
        </Tabs.Content>
        <Tabs.Content value="Keys">
          <AgentKeys projectId={projectId} agent={a} />
        </Tabs.Content>
        <Tabs.Content value="Permissions">
          <AgentPermissions projectId={projectId} agent={a} />
        </Tabs.Content>
        <Tabs.Content value="Limits">
          <AgentLimits projectId={projectId} agent={a} />
        </Tabs.Content>
        <Tabs.Content value="Clients">
          <ConnectedClients projectId={projectId} agent={a} />
        </Tabs.Content>
        <Tabs.Content value="Identity">
          <AgentIdentity agent={a} />
        </Tabs.Content>
        <Tabs.Content value="Activity">
          <AgentActivity projectId={projectId} agent={a} />
        </Tabs.Content>
      </Tabs.Root>
    </section>
  );
}
