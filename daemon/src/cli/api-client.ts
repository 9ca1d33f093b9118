import {
  ContractClient,
  routes,
  StreamRefused,
  type CallInput,
  type Problem,
  type RouteName,
  type RouteResult,
  type Routes,
  type StreamMessage,
} from '@gatehouse/shared';
import { ApiError, UnreachableError } from './errors.js';
import { withProgress } from './output.js';

/** A success answer: the route's result, and for paged lists `X-Total-Count` and `X-Next-Cursor`. */
export interface Answer<T> {
  data: T;
  total: number | null;
  next: string | null;
}

/** Gives the bearer credential of a call, or null for none (public routes). */
export type Credential = () => Promise<string | null>;

/** A problem becomes one line on stderr: its `detail`; an unreachable daemon its own error. */
function failure(problem: Problem): Error {
  if (problem.code === 'daemon_unavailable') return new UnreachableError(problem.detail);
  return new ApiError(problem.status, problem.code, problem.detail);
}

/** The CLI's adapter of the contract client: answers or thrown errors, with a progress line. */
export class ApiClient {
  readonly #client: ContractClient;

  constructor(
    readonly url: string,
    credential: Credential = async () => null,
    /** `X-Project-Id`: an id or slug; the daemon's default project when absent. */
    project?: string,
  ) {
    this.#client = new ContractClient({ baseUrl: url, fetch, tokens: { token: credential }, projectId: project });
  }

  async call<N extends RouteName>(name: N, input: CallInput<N>): Promise<Answer<RouteResult<Routes[N]>>> {
    // What the route does, up to its first aside: "Issue an API key for the agent…".
    const summary = routes[name].summary.split(/[(:;]/)[0]!.trim();
    const result = await withProgress(summary, this.#client.call(name, input));
    if (!result.ok) throw failure(result.problem);
    return { data: result.data, total: result.total ?? null, next: result.next ?? null };
  }

  /**
   * Follows `GET /v1/events` until the daemon ends the stream. `lastEventId` asks the daemon
   * for what happened after that audit sequence number first, so nothing falls in between.
   */
  async *events(lastEventId?: number): AsyncGenerator<StreamMessage> {
    try {
      yield* this.#client.stream({ lastEventId: lastEventId === undefined ? undefined : String(lastEventId) });
    } catch (error) {
      throw error instanceof StreamRefused ? failure(error.problem) : error;
    }
  }
}
