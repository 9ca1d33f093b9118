import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { call, keys, page } from '../api.js';
import { AgentPicker, ErrorNote, formatTime, Loading, Pager, type PickedAgent } from '../components.js';

const PAGE = 50;
const toIso = (local: string) => (local ? new Date(local).toISOString() : undefined);

/** The hash-chained audit log: filters, paging, each event's details, and whether the chain holds. */
export function Audit({ projectId }: { projectId: string }): React.JSX.Element {
  const [eventType, setEventType] = useState('');
  const [agent, setAgent] = useState<PickedAgent | null>(null);
  const [after, setAfter] = useState('');
  const [before, setBefore] = useState('');
  const [offset, setOffset] = useState(0);
  const filter = { eventType, agent: agent?.id, after, before, offset };
  const events = useQuery({
    queryKey: keys.audit(projectId, filter),
    queryFn: () =>
      page('listAudit', {
        projectId,
        query: {
          limit: PAGE,
          offset,
          ...(eventType ? { event_type: eventType } : {}),
          ...(agent ? { agent_id: agent.id } : {}),
          ...(toIso(after) ? { after: toIso(after) } : {}),
          ...(toIso(before) ? { before: toIso(before) } : {}),
        },
      }),
    placeholderData: keepPreviousData,
  });
  const chain = useQuery({ queryKey: ['audit', projectId, 'verify'], queryFn: () => call('verifyAudit', {}) });
  const set = (update: (value: string) => void) => (value: string) => {
    update(value);
    setOffset(0);
  };
  const total = events.data?.total ?? 0;
  return (
    <section>
      <div className="toolbar">
        <h1>Audit log</h1>
        <span className="spacer" />
        {chain.isSuccess &&
          (chain.data.is_valid ? (
            <span className="badge badge-active" role="status">
              Chain verified: {chain.data.entries_checked} entries
            </span>
          ) : (
            <p className="error banner" role="alert">
              The audit chain is broken at entry #{chain.data.break_point}: {chain.data.error}
            </p>
          ))}
        <ErrorNote error={chain.error} />
      </div>
      <div className="toolbar">
        <label>
          Event type{' '}
          <input
            value={eventType}
            onChange={(e) => set(setEventType)(e.target.value.trim())}
            placeholder="key.created or auth.*"
          />
        </label>
        <AgentPicker
          projectId={projectId}
          label="Agent"
          noneLabel="Any"
          value={agent}
          onChange={(picked) => {
            setAgent(picked);
            setOffset(0);
          }}
        />
        <label>
          From <input type="datetime-local" value={after} onChange={(e) => set(setAfter)(e.target.value)} />
        </label>
        <label>
          To <input type="datetime-local" value={before} onChange={(e) => set(setBefore)(e.target.value)} />
        </label>
      </div>
      <ErrorNote error={chain.error} />
      {events.isPending ? (
        <Loading />
      ) : events.isError ? (
        <ErrorNote error={events.error} />
      ) : events.data.items.length === 0 ? (
        <p className="empty">No events match.</p>
      ) : (
        <>
          <table aria-label="Audit events">
            <thead>
              <tr>
                <th>#</th>
                <th>When</th>
                <th>Event</th>
                <th>Actor</th>
                <th>Target</th>
                <th>Outcome</th>
              </tr>
            </thead>
            <tbody>
              {events.data.items.map((event) => (
                <tr key={event.sequence_number}>
                  <td>{event.sequence_number}</td>
                  <td>{formatTime(event.at)}</td>
                  <td>
                    <details>
                      <summary>
                        <code>{event.event_type}</code>
                      </summary>
                      <pre className="key small">
                        {JSON.stringify(
                          { source: event.source, metadata: event.metadata, entry_hash: event.entry_hash },
                          null,
                          2,
                        )}
                      </pre>
                    </details>
                  </td>
                  <td>{event.actor}</td>
                  <td>{event.target ?? '—'}</td>
                  <td>{event.outcome}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager offset={offset} pageSize={PAGE} total={total} onOffset={setOffset} />
        </>
      )}
    </section>
  );
}
