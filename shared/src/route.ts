import type { Static, TObject, TSchema } from 'typebox';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who may call a route. Each level includes the checks of the ones above it.
 * - `public`: no credentials.
 * - `user`: any signed-in human (session access token or personal API token).
 * - `project_member`: a human who can read the request's project (`X-Project-Id`, default project).
 * - `project_admin`: a human with admin privilege on that project, or a super_admin.
 * - `user_admin`: a human whose role is admin or super_admin (user management).
 * - `agent`: an agent, with its API key or an agent token.
 * - `any`: a human or an agent.
 */
export type RouteAuth = 'public' | 'user' | 'project_member' | 'project_admin' | 'user_admin' | 'agent' | 'any';

/** One HTTP route of the API: everything the daemon, the OpenAPI document and clients need. */
export interface RouteDescriptor {
  method: HttpMethod;
  /** OpenAPI-style path, parameters in braces: `/admin/users/{id}`. */
  path: string;
  auth: RouteAuth;
  summary: string;
  tag: string;
  params?: TObject;
  querystring?: TObject;
  body?: TSchema;
  /** Success responses by status. Problems (4xx/5xx) are implied for every route. */
  response: Partial<Record<200 | 201 | 204, TSchema>>;
  /**
   * List routes send the total row count in `X-Total-Count`; those with a `cursor` query also send
   * the next page's cursor in `X-Next-Cursor` and `Link: rel="next"` while there is one.
   */
  paged?: boolean;
  /**
   * Routes kept compatible with OTAS answer failures in OTAS's envelope (`{status: 0,
   * status_description}`) instead of RFC 7807: `invalid` describes an unreadable or invalid body,
   * `unauthorized` a refused credential; `requireHeaders` are checked before anything else and
   * answered 400 `missing` (OTAS's `missing_headers` unless the route says otherwise);
   * `notFound` describes a 404 where OTAS has its own word for it; `malformed` a body that is not
   * JSON, where OTAS tells it apart from an invalid one.
   */
  otas?: {
    invalid: string;
    unauthorized: string;
    requireHeaders?: string[];
    missing?: string;
    notFound?: string;
    malformed?: string;
  };
}

type StaticOf<T> = T extends TSchema ? Static<T> : undefined;

export type RouteParams<R extends RouteDescriptor> = StaticOf<R['params']>;
export type RouteQuery<R extends RouteDescriptor> = StaticOf<R['querystring']>;
export type RouteBody<R extends RouteDescriptor> = StaticOf<R['body']>;
/** The body of the route's success response. */
export type RouteResult<R extends RouteDescriptor> = StaticOf<R['response'][keyof R['response']]>;

/** Keeps each descriptor's literal type while checking its shape. */
export const defineRoutes = <const T extends Record<string, RouteDescriptor>>(routes: T): T => routes;

/** The status a route answers with on success (its lowest declared 2xx). */
export const successStatus = (route: RouteDescriptor): number => Math.min(...Object.keys(route.response).map(Number));

/** Fills `{param}` placeholders of a descriptor's path. */
export function buildPath(path: string, params: Record<string, string | number> = {}): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(String(value));
  });
}
