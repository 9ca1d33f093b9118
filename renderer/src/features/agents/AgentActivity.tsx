import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { Agent } from '@gatehouse/shared';
import { auditQueries } from '../audit/queries.js';
import { ErrorNote, formatTime, Loading, Pager } from '../../ui/components.js';

const ACTIVITY_PAGE = 50;

export function AgentActivity({ projectId, agent }: { projectId: string; agent: Agent }): React.JSX.Element {
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
        <Pager offset={offset} pageSize={ACTIVITY_PAGE} total={events.data.total} onOffset={setOffset} />
      )}
    </>
  );
}
