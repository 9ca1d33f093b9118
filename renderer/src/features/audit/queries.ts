import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import type { AuditOutcome } from '@gatehouse/shared';
import { call, page } from '../../api.js';

export interface AuditFilter {
  event_type?: string;
  agent_id?: string;
  outcome?: AuditOutcome;
  /** ISO 8601 instants. */
  after?: string;
  before?: string;
  offset?: number;
  /** The page after the one that gave this cursor; `offset` is then where it starts, for the pager. */
  cursor?: string;
  limit: number;
}

export const auditKeys = {
  all: ['audit'] as const,
  project: (projectId: string) => [...auditKeys.all, projectId] as const,
  lists: (projectId: string) => [...auditKeys.project(projectId), 'list'] as const,
  list: (projectId: string, filter: AuditFilter) => [...auditKeys.lists(projectId), filter] as const,
  /** The chain spans every project: verified once for the daemon. */
  verification: () => [...auditKeys.all, 'verification'] as const,
};

export const auditQueries = {
  list: (projectId: string, filter: AuditFilter) =>
    queryOptions({
      queryKey: auditKeys.list(projectId, filter),
      queryFn: () => {
        const { limit, offset, cursor, event_type, agent_id, outcome, after, before } = filter;
        return page('listAudit', {
          projectId,
          query: {
            limit,
            ...(cursor ? { cursor } : offset ? { offset } : {}),
            ...(event_type ? { event_type } : {}),
            ...(agent_id ? { agent_id } : {}),
            ...(outcome ? { outcome } : {}),
            ...(after ? { after } : {}),
            ...(before ? { before } : {}),
          },
        });
      },
      placeholderData: keepPreviousData,
    }),
  verification: () => queryOptions({ queryKey: auditKeys.verification(), queryFn: () => call('verifyAudit', {}) }),
};
