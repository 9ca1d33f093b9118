import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { ApprovalStatus } from '@gatehouse/shared';
import { call, keys, page } from '../api.js';
import { ErrorNote, formatTime, Loading, Pager, StatusBadge } from '../components.js';

const PAGE = 50;

/** Agents' requests to use approval-required tools: pending ones arrive live; approve or deny. */
export function Approvals({ projectId }: { projectId: string }): React.JSX.Element {
  const client = useQueryClient();
  const [status, setStatus] = useState<ApprovalStatus | ''>('pending');
  const [offset, setOffset] = useState(0);
  const list = useQuery({
    queryKey: keys.approvals(projectId, { status, offset }),
    queryFn: () => page('listApprovals', { projectId, query: { limit: PAGE, offset, ...(status ? { status } : {}) } }),
    placeholderData: keepPreviousData,
  });
  const decide = useMutation({
    mutationFn: ({ id, approve }: { id: string; approve: boolean }) =>
      call(approve ? 'approveApproval' : 'denyApproval', { projectId, params: { id }, body: {} }),
    onSuccess: () => client.invalidateQueries({ queryKey: ['approvals', projectId] }),
  });
  return (
    <section>
      <div className="toolbar">
        <h1>Approvals</h1>
        <span className="spacer" />
        <label>
          Show{' '}
          <select
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as ApprovalStatus | '');
              setOffset(0);
            }}
          >
            <option value="pending">Pending</option>
            <option value="approved">Approved</option>
            <option value="denied">Denied</option>
            <option value="expired">Expired</option>
            <option value="">All</option>
          </select>
        </label>
      </div>
      <ErrorNote error={decide.error} />
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorNote error={list.error} />
      ) : list.data.items.length === 0 ? (
        <p className="empty">{status === 'pending' ? 'Nothing waits for a decision.' : 'No requests.'}</p>
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
                <td>{request.summary}</td>
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
        <Pager offset={offset} pageSize={PAGE} total={list.data.total} onOffset={setOffset} />
      )}
    </section>
  );
}
