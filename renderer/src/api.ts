import type {
  CallInput,
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
export async function call<N extends ConsoleRouteName>(route: N, request: CallInput<N>): Promise<Result<N>> {
  const result = await window.gatehouse.api(route, request);
  if (!result.ok) throw new ApiError(result.problem);
  return result.data;
}

/** A paged list: the page, the total from `X-Total-Count`, and the next page's cursor where the list gives one. */
export async function page<N extends ConsoleRouteName>(
  route: N,
  request: CallInput<N>,
): Promise<{ items: Result<N>; total: number; next?: string }> {
  const result = await window.gatehouse.api(route, request);
  if (!result.ok) throw new ApiError(result.problem);
  return { items: result.data, total: result.total ?? 0, ...(result.next ? { next: result.next } : {}) };
}
