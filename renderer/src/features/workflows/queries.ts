import { queryOptions } from '@tanstack/react-query';
import { call, page } from '../../api.js';

export const workflowKeys = {
  all: ['workflows'] as const,
  project: (projectId: string) => [...workflowKeys.all, projectId] as const,
  lists: (projectId: string) => [...workflowKeys.project(projectId), 'list'] as const,
  details: (projectId: string) => [...workflowKeys.project(projectId), 'detail'] as const,
  detail: (projectId: string, name: string) => [...workflowKeys.details(projectId), name] as const,
  graph: (projectId: string, name: string) => [...workflowKeys.detail(projectId, name), 'graph'] as const,
  validation: (projectId: string, name: string) => [...workflowKeys.detail(projectId, name), 'validation'] as const,
};

export const workflowQueries = {
  list: (projectId: string) =>
    queryOptions({
      queryKey: workflowKeys.lists(projectId),
      queryFn: () => page('listWorkflows', { projectId, query: { limit: 1000 } }),
    }),
  graph: (projectId: string, name: string) =>
    queryOptions({
      queryKey: workflowKeys.graph(projectId, name),
      queryFn: () => call('getWorkflowGraph', { projectId, params: { name } }),
    }),
  validation: (projectId: string, name: string) =>
    queryOptions({
      queryKey: workflowKeys.validation(projectId, name),
      queryFn: () => call('validateWorkflow', { projectId, params: { name } }),
    }),
};
