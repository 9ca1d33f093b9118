import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { Agent } from '@gatehouse/shared';
import { auditQueries } from '../audit/queries.js';
import { ActivityPanel, type ActivityWindowName } from '../overview/ActivityPanel.js';
import { overviewQueries } from '../overview/queries.js';
import { ErrorNote, formatTime, Loading, Pager } from '../../ui/components.js';

const ACTIVITY_PAGE = 50;

/** The agent's activity in the overview's chart, then its audit events page by page. */
export function AgentActivity({ projectId, agent }: { projectId: string; agent: Agent }): React.JSX.Element {
  const [period, setPeriod] = useState<ActivityWindowName>('day');
  const activity = useQuery(overviewQueries.agentActivity(projectId, agent.name));
  return (
    <>
      {activity.isPending ? (
        <Loading />
      ) : activity.isError ? (
        <ErrorNote error={activity.error} />
      ) : (
        <ActivityPanel activity={activity.data} window={period} onWindow={setPeriod} agent={agent.name} />
      )}
      <AgentEvents projectId={projectId} agent={agent} />
    </>
  );
}

function AgentEvents({ projectId, agent }: { projectId: string; agent: Agent }): React.JSX.Element {
  const [offset, setOffset] = useState(0);
  const events = useQuery(auditQueries.list(projectId, { agent_id: agent.id, offset, limit: ACTIVITY_PAGE }));
  if (events.isPending) return <Loading />;
  if (events.isError) return <ErrorNote error={events.error} />;
  if (events.data.items.length === 0) return <p className="empty">No activity yet.</p>;
  return (
    <>
      <table>
        <thead>
          <tr>
            <th>When</th>
            <th>Event</th>
            <th>Actor</th>
            <th>Outcome</th>
            <th>Target</th>
          </tr>
        </thead>
        <tbody>
          {events.data.items.map((event) => (
            <tr key={event.sequence_number}>
              <td>{formatTime(event.at)}</td>
              <td>
                <code>{event.event_type}</code>
              </td>
              <td>{event.actor}</td>
              <td>{event.outcome}</td>
              <td>{event.target ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {events.data.total > ACTIVITY_PAGE && (
        <Pager offset={offset} pageSize={ACTIVITY_PAGE} total={events.data.total} onPage={setOffset} />
      )}
    </>
  );
}
