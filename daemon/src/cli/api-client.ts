import {
  buildPath,
  routes,
  type RouteBody,
  type RouteName,
  type RouteParams,
  type RouteQuery,
  type RouteResult,
  type Routes,
} from '@gatehouse/shared';
import { ApiError, CliError, UnreachableError } from './errors.js';
import { withProgress } from './output.js';
import { parseEventStream, type ServerSentEvent } from './sse.js';

type Part<K extends string, T> = [T] extends [undefined] ? { [P in K]?: undefined } : { [P in K]: T };

/** What a call of route `N` takes: exactly the route's own params, query and body. */
export type CallInput<N extends RouteName> = Part<'params', RouteParams<Routes[N]>> &
  Partial<Part<'query', RouteQuery<Routes[N]>>> &
  Part<'body', RouteBody<Routes[N]>>;

/** A success answer: the route's result, and `X-Total-Count` for paged lists. */
export interface Answer<T> {
  data: T;
  total: number | null;
}

/** Gives the bearer credential of a call, or null for none (public routes). */
export type Credential = () => Promise<string | null>;

/** The daemon's HTTP API, typed by the contract's route descriptors. */
export class ApiClient {
  constructor(
    readonly url: string,
    private readonly credential: Credential = async () => null,
    /** `X-Project-Id`: an id or slug; the daemon's default project when absent. */
    private readonly project?: string,
  ) {}

  async call<N extends RouteName>(name: N, input: CallInput<N>): Promise<Answer<RouteResult<Routes[N]>>> {
    const route = routes[name];
    const { params, query, body } = input as { params?: Record<string, string>; query?: object; body?: unknown };
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) search.set(key, String(value));
    const headers = await this.headers();
    if (body !== undefined) headers['content-type'] = 'application/json';
    const answer = this.fetch(`${buildPath(route.path, params)}${search.size ? `?${search}` : ''}`, {
      method: route.method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    }).then(async (response) => ({ response, text: await response.text() }));
    // What the route does, up to its first aside: "Issue an API key for the agent…".
    const { response, text } = await withProgress(route.summary.split(/[(:;]/)[0]!.trim(), answer);
    const parsed = readJson(text);
    if (!response.ok) throw problem(response.status, parsed);
    if (parsed === null && response.status !== 204)
      throw new CliError(`${this.url} does not answer like a Gatehouse daemon.`);
    const total = response.headers.get('x-total-count');
    return { data: parsed as RouteResult<Routes[N]>, total: total === null ? null : Number(total) };
  }

  /**
   * Follows `GET /v1/events` until the daemon ends the stream. `lastEventId` asks the daemon
   * for what happened after that audit sequence number first, so nothing falls in between.
   */
  async *events(lastEventId?: number): AsyncGenerator<ServerSentEvent> {
    const headers = await this.headers();
    headers.accept = 'text/event-stream';
    if (lastEventId !== undefined) headers['last-event-id'] = String(lastEventId);
    const response = await this.fetch(routes.events.path, { headers });
    if (!response.ok) throw problem(response.status, readJson(await response.text()));
    if (!response.body) return;
    try {
      yield* parseEventStream(response.body.pipeThrough(new TextDecoderStream()));
    } catch {
      // The daemon cut the connection (it does on shutdown): for the reader, the stream has ended.
    }
  }

  private async headers(): Promise<Record<string, string>> {
    const headers: Record<string, string> = {};
    const token = await this.credential();
    if (token) headers.authorization = `Bearer ${token}`;
    if (this.project) headers['x-project-id'] = this.project;
    return headers;
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.url}${path}`, init);
    } catch {
      throw new UnreachableError(`cannot reach the Gatehouse daemon at ${this.url}.`);
    }
  }
}

/** The body as JSON; null when empty or not JSON (something other than gatehoused answered). */
function readJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** A problem document becomes one line: its `detail` (every problem has one). */
function problem(status: number, body: unknown): ApiError {
  const { detail, code } = (body ?? {}) as { detail?: string; code?: string };
  return new ApiError(status, code, detail ?? `the daemon answered HTTP ${status}.`);
}
