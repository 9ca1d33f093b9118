import { useQuery } from '@tanstack/react-query';
import { useNavigate, useSearch } from '@tanstack/react-router';
import type { AuditOutcome } from '@gatehouse/shared';
import { useProject } from '../../app/project.js';
import { ErrorNote, formatTime, Loading, Pager } from '../../ui/components.js';
import { AgentPicker } from '../agents/AgentPicker.js';
import { agentQueries } from '../agents/queries.js';
import { auditQueries } from './queries.js';

const PAGE = 50;
export const AUDIT_OUTCOME_CHOICES: readonly AuditOutcome[] = ['success', 'failure'];
const toIso = (local: string | undefined) => (local ? new Date(local).toISOString() : undefined);

/** The hash-chained audit log: filters, paging, each event's details, and whether the chain holds. */
export function AuditPage(): React.JSX.Element {
  const projectId = useProject().id;
  const {
    event_type,
    agent: agentName,
    outcome,
    after,
    before,
    offset = 0,
    cursor,
  } = useSearch({ from: '/_project/audit' });
  const navigate = useNavigate({ from: '/audit' });
  // The URL names the agent; its id (what the log is filtered by) comes from the daemon.
  const agent = useQuery({ ...agentQueries.detail(projectId, agentName ?? ''), enabled: !!agentName });
  const waitingForAgent = !!agentName && !agent.data;
  const events = useQuery({
    ...auditQueries.list(projectId, {
      event_type,
      agent_id: agent.data?.id,
      outcome,
      after: toIso(after),
      before: toIso(before),
      offset,
      cursor,
      limit: PAGE,
    }),
    enabled: !waitingForAgent,
  });
  const chain = useQuery(auditQueries.verification());
  /** A changed filter shows its results from the first page. */
  const set = (filter: 'event_type' | 'agent' | 'outcome' | 'after' | 'before') => (value: string | undefined) =>
    void navigate({
      search: (prev) => ({ ...prev, [filter]: value || undefined, offset: undefined, cursor: undefined }),
    });
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
            value={event_type ?? ''}
            onChange={(e) => set('event_type')(e.target.value.trim())}
            placeholder="key.created or auth.*"
          />
        </label>
        <AgentPicker
          projectId={projectId}
          label="Agent"
          noneLabel="Any"
          value={agentName ? (agent.data ?? null) : null}
          onChange={(picked) => set('agent')(picked?.name)}
        />
        <label>
          Outcome{' '}
          <select value={outcome ?? ''} onChange={(e) => set('outcome')(e.target.value)}>
            <option value="">Any</option>
            {AUDIT_OUTCOME_CHOICES.map((choice) => (
              <option key={choice} value={choice}>
                {choice}
              </option>
            ))}
          </select>
        </label>
        <label>
          From <input type="datetime-local" value={after ?? ''} onChange={(e) => set('after')(e.target.value)} />
        </label>
        <label>
          To <input type="datetime-local" value={before ?? ''} onChange={(e) => set('before')(e.target.value)} />
        </label>
      </div>
      <ErrorNote error={chain.error} />
      <ErrorNote error={agent.error} />
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
          <Pager
            offset={offset}
            pageSize={PAGE}
            total={total}
            next={events.data?.next}
            onPage={(start, cursor) =>
              void navigate({ search: (prev) => ({ ...prev, offset: start || undefined, cursor }) })
            }
          />
        </>
      )}
    </section>
  );
}
