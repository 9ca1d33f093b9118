import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import type { ApprovalStatus } from '@gatehouse/shared';
import { page } from '../../api.js';

export interface ApprovalFilter {
  status?: ApprovalStatus;
  offset?: number;
  limit: number;
}

export const approvalKeys = {
  all: ['approvals'] as const,
  project: (projectId: string) => [...approvalKeys.all, projectId] as const,
  lists: (projectId: string) => [...approvalKeys.project(projectId), 'list'] as const,
  list: (projectId: string, filter: ApprovalFilter) => [...approvalKeys.lists(projectId), filter] as const,
};

export const approvalQueries = {
  list: (projectId: string, filter: ApprovalFilter) =>
    queryOptions({
      queryKey: approvalKeys.list(projectId, filter),
      queryFn: () =>
        page('listApprovals', {
          projectId,
          query: {
            limit: filter.limit,
            ...(filter.offset ? { offset: filter.offset } : {}),
            ...(filter.status ? { status: filter.status } : {}),
          },
        }),
      placeholderData: keepPreviousData,
    }),
};
