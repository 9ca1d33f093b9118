import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import type {
  ApiRequest,
  ConsoleRouteName,
  FieldError,
  GatehouseBridge,
  Problem,
  RouteResult,
  routes,
} from '@gatehouse/shared';

declare global {
  interface Window {
    gatehouse: GatehouseBridge;
  }
}

/** A problem the daemon answered with, as an Error the screens can show (and its field errors). */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
    this.name = 'ApiError';
  }
  /** The message for one field (`body.name` → `name`), from the problem's `errors`. */
  fieldError(field: string): string | undefined {
    return this.problem.errors?.find((e) => isAbout(e, field))?.message;
  }
  /** The field errors that none of `fields` (a form's own slots) shows. */
  otherErrors(fields: readonly string[]): FieldError[] {
    return (this.problem.errors ?? []).filter((e) => !fields.some((field) => isAbout(e, field)));
  }
}

const isAbout = (error: FieldError, field: string) =>
  error.location === `body.${field}` || error.location.startsWith(`body.${field}.`);

type Result<N extends ConsoleRouteName> = RouteResult<(typeof routes)[N]>;

/** Short lists (projects, members, tools, roles, an agent's keys) are read whole: the most a page holds. */
export const WHOLE = { limit: 1000 } as const;

/** Calls a contract route through the bridge; the data, or an ApiError. */
export async function call<N extends ConsoleRouteName>(route: N, request: ApiRequest<N>): Promise<Result<N>> {
  const result = await window.gatehouse.api(route, request);
  if (!result.ok) throw new ApiError(result.problem);
  return result.data;
}

/** A paged list: the page and the total from `X-Total-Count`. */
export async function page<N extends ConsoleRouteName>(
  route: N,
  request: ApiRequest<N>,
): Promise<{ items: Result<N>; total: number }> {
  const result = await window.gatehouse.api(route, request);
  if (!result.ok) throw new ApiError(result.problem);
  return { items: result.data, total: result.total ?? 0 };
}

/** Query keys, one factory per resource, so a change invalidates exactly what it concerns. */
export const keys = {
  status: ['status'] as const,
  shell: ['shell'] as const,
  projects: ['projects'] as const,
  agents: (projectId: string) => ['agents', projectId] as const,
  agentList: (projectId: string, filter: object) => ['agents', projectId, 'list', filter] as const,
  agent: (projectId: string, name: string) => ['agents', projectId, 'one', name] as const,
  agentKeys: (projectId: string, name: string) => ['agents', projectId, 'keys', name] as const,
  audit: (projectId: string, filter: object) => ['audit', projectId, filter] as const,
  approvals: (projectId: string, filter: object) => ['approvals', projectId, filter] as const,
  permissions: (projectId: string, name: string) => ['agents', projectId, 'permissions', name] as const,
  workflows: (projectId: string) => ['workflows', projectId] as const,
  workflow: (projectId: string, name: string) => ['workflows', projectId, 'one', name] as const,
  workflowGraph: (projectId: string, name: string) => ['workflows', projectId, 'one', name, 'graph'] as const,
  workflowValidation: (projectId: string, name: string) => ['workflows', projectId, 'one', name, 'validation'] as const,
  users: ['users'] as const,
  members: (projectId: string) => ['projects', projectId, 'members'] as const,
  tools: ['tools'] as const,
  roles: ['roles'] as const,
};

/** Which queries an announced change concerns, by the event's category. */
const invalidatedBy: Record<string, (projectId: string) => readonly unknown[]> = {
  agent: (projectId) => keys.agents(projectId),
  key: (projectId) => keys.agents(projectId),
  // A role's or a tool's change reaches every agent using it.
  role: (projectId) => keys.agents(projectId),
  tool: (projectId) => keys.agents(projectId),
  approval: (projectId) => ['approvals', projectId],
  workflow: (projectId) => keys.workflows(projectId),
  agent_user: (projectId) => keys.workflows(projectId),
};

/** Follows the daemon's event stream and refreshes the queries each change concerns. */
export function useLiveUpdates(projectId: string | null): void {
  const client = useQueryClient();
  useEffect(() => {
    if (!projectId) return;
    return window.gatehouse.events(projectId, ({ category }) => {
      const key = invalidatedBy[category];
      if (key) void client.invalidateQueries({ queryKey: key(projectId) });
      void client.invalidateQueries({ queryKey: ['audit', projectId] });
    });
  }, [client, projectId]);
}
