import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate, useSearch } from '@tanstack/react-router';
import type { ApprovalStatus } from '@gatehouse/shared';
import { call } from '../../api.js';
import { useProject } from '../../app/project.js';
import { ErrorNote, formatTime, Loading, Pager, StatusBadge } from '../../ui/components.js';
import { approvalKeys, approvalQueries } from './queries.js';

const PAGE = 50;
/** `all` in the URL: every status (no status means the default, pending). */
export const APPROVAL_STATUS_CHOICES = ['pending', 'approved', 'denied', 'expired', 'all'] as const;
export type ShownApprovals = (typeof APPROVAL_STATUS_CHOICES)[number];

/** Agents' requests to use approval-required tools: pending ones arrive live; approve or deny. */
export function ApprovalsPage(): React.JSX.Element {
  const projectId = useProject().id;
  const client = useQueryClient();
  const search = useSearch({ from: '/_project/approvals' });
  const navigate = useNavigate({ from: '/approvals' });
  const shown = search.status ?? 'pending';
  const status: ApprovalStatus | undefined = shown === 'all' ? undefined : shown;
  const offset = search.offset ?? 0;
  const list = useQuery(approvalQueries.list(projectId, { status, offset, limit: PAGE }));
  const decide = useMutation({
    mutationFn: ({ id, approve }: { id: string; approve: boolean }) =>
      call(approve ? 'approveApproval' : 'denyApproval', { projectId, params: { id }, body: {} }),
    onSuccess: () => client.invalidateQueries({ queryKey: approvalKeys.project(projectId) }),
  });
  return (
    <section>
      <div className="toolbar">
        <h1>Approvals</h1>
        <span className="spacer" />
        <label>
          Show{' '}
          <select
            value={shown}
            onChange={(e) =>
              void navigate({
                search: (prev) => ({
                  ...prev,
                  status: e.target.value === 'pending' ? undefined : (e.target.value as ShownApprovals),
                  offset: undefined,
                }),
              })
            }
          >
            <option value="pending">Pending</option>
            <option value="approved">Approved</option>
            <option value="denied">Denied</option>
            <option value="expired">Expired</option>
            <option value="all">All</option>
          </select>
        </label>
      </div>
      <ErrorNote error={decide.error} />
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorNote error={list.error} />
      ) : list.data.items.length === 0 ? (
        <p className="empty">{shown === 'pending' ? 'Nothing waits for a decision.' : 'No requests.'}</p>
      ) : (
        <table aria-label="Approval requests">
          <thead>
            <tr>
              <th>Agent</th>
              <th>Tool</th>
              <th>Summary</th>
              <th>Asked</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((request) => (
              <tr key={request.id}>
                <td>{request.agent_name}</td>
                <td>
                  <code>{request.tool}</code>
                </td>
                <td className="wrap-anywhere">{request.summary}</td>
                <td>
                  {formatTime(request.created_at)}
                  {request.status === 'pending' && (
                    <div className="muted small">expires {formatTime(request.expires_at)}</div>
                  )}
                </td>
                <td>
                  <StatusBadge status={request.status} />
                  {request.decided_by && <div className="muted small">by {request.decided_by}</div>}
                </td>
                <td>
                  {request.status === 'pending' && (
                    <div className="row-actions">
                      <button
                        className="primary"
                        onClick={() => decide.mutate({ id: request.id, approve: true })}
                        disabled={decide.isPending}
                      >
                        Approve
                      </button>
                      <button
                        onClick={() => decide.mutate({ id: request.id, approve: false })}
                        disabled={decide.isPending}
                      >
                        Deny
                      </button>
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.data && list.data.total > PAGE && (
        <Pager
          offset={offset}
          pageSize={PAGE}
          total={list.data.total}
          onPage={(start) => void navigate({ search: (prev) => ({ ...prev, offset: start || undefined }) })}
        />
      )}
    </section>
  );
}
