import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { Value } from 'typebox/value';
import { Problem, problem } from '../problems.js';
import {
  buildPath,
  type RouteDescriptor,
  type RouteBody,
  type RouteParams,
  type RouteQuery,
  type RouteResult,
} from '../route.js';
import { routes, type RouteName, type Routes } from '../routes/index.js';
import { queryString } from './query.js';
import { newDecoder, sleep, type AbortSignalLike, type HttpResponse, type Transport } from './transport.js';

type Part<K extends string, T> = [T] extends [undefined] ? { [P in K]?: undefined } : { [P in K]: T };

/** What a call of route `N` takes: exactly the route's own params, query and body. */
export type CallInput<N extends RouteName> = Part<'params', RouteParams<Routes[N]>> &
  Partial<Part<'query', RouteQuery<Routes[N]>>> &
  Part<'body', RouteBody<Routes[N]>> & {
    /** The project the call acts in (`X-Project-Id`, an id or slug); the client's default when absent. */
    projectId?: string | undefined;
  };

/**
 * Every answer: data (and for paged lists `total` from `X-Total-Count`, and `next` from
 * `X-Next-Cursor` where the list has a next page by cursor), or the daemon's problem.
 */
export type CallResult<T> = { ok: true; data: T; total?: number; next?: string } | { ok: false; problem: Problem };

/**
 * Where the bearer token comes from. The client asks for it before every request; after a 401
 * for the token it sent, it calls `renew` — once, however many calls were refused together,
 * because the daemon treats the reuse of a rotated refresh token as theft and ends the session.
 */
export interface TokenSource {
  token(): string | null | Promise<string | null>;
  /** Obtains a new access token (or forgets a dead session); absent: a 401 is final. */
  renew?(): Promise<void>;
}

export interface ContractClientOptions extends Transport {
  /** The daemon's origin (`http://127.0.0.1:7345`), or null while it cannot be reached. */
  baseUrl: string | (() => string | null);
  tokens?: TokenSource;
  /** `X-Project-Id` of calls that name none. */
  projectId?: string | undefined;
  /** Send the browser's same-origin cookies (the console session's refresh cookie). */
  sameOriginCookies?: boolean;
}

/** One message of `GET /v1/events`: the category (`event:`), its JSON data and its id. */
export interface StreamMessage {
  event: string;
  data: string;
  id: string | undefined;
}

export interface FollowOptions {
  projectId?: string | undefined;
  /** Resume after this event id (`Last-Event-ID`); then after the last one received. */
  lastEventId?: string | undefined;
  /** After a dropped stream, how long before reconnecting. */
  reconnectMs?: number;
  signal?: AbortSignalLike;
}

const unavailable = (url: string | null, error?: unknown) =>
  problem(
    'daemon_unavailable',
    url ? `The Gatehouse daemon at ${url} cannot be reached${why(error)}.` : 'The Gatehouse daemon is not running.',
  );

/**
 * Why a request failed before any answer, from the error code a runtime puts on the failure's
 * cause (Node's fetch: `TypeError('fetch failed')` caused by `ECONNREFUSED`, a TLS code, …). A
 * certificate the caller does not trust is told apart, with what to do about it: otherwise a
 * team server with a private CA looks exactly like a stopped daemon.
 */
function why(error: unknown): string {
  let code: unknown;
  let innermost: unknown;
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    code ??= (cause as { code?: unknown }).code;
    if (cause !== error) innermost = cause;
  }
  if (typeof code === 'string' && /CERT|SELF_SIGNED|ERR_TLS/.test(code))
    return `: its TLS certificate is not trusted here (${code}); if it is signed by a private CA, name that CA's certificate in NODE_EXTRA_CA_CERTS`;
  if (typeof code === 'string') return ` (${code})`;
  // No code: the runtime's own words for it (Node's fetch refuses ports such as 9 as "bad port").
  return innermost instanceof Error && innermost.message ? ` (${innermost.message})` : '';
}

/** The body as JSON; null when empty or not JSON (something other than the daemon answered). */
function readJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** A failed answer's problem: the daemon's document as it is, or one saying the answer was not one. */
export function readProblem(status: number, body: unknown): Problem {
  if (Value.Check(Problem, body)) return body;
  return problem('internal', `The daemon answered HTTP ${status} without a problem document.`);
}

/** Thrown inside the client only: the daemon could not be reached. */
class Unreachable extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}

/**
 * The one client of the contract, used by Electron main, the browser console and the CLI: typed
 * calls from the route table, `X-Total-Count` paging, problem documents, one token renewal at a
 * time, and the event stream with `Last-Event-ID` resume. `fetch` and the token source are
 * injected, so it runs unchanged in Node and in the browser.
 */
export class ContractClient {
  readonly #options: ContractClientOptions;
  #renewing: Promise<void> | undefined;

  constructor(options: ContractClientOptions) {
    this.#options = options;
  }

  /** The daemon's origin now, or null when it is not running. */
  get url(): string | null {
    const { baseUrl } = this.#options;
    return typeof baseUrl === 'string' ? baseUrl : baseUrl();
  }

  /**
   * Calls route `name`; never throws for an HTTP or network failure, which become problems.
   * `options.token` sends that bearer (or none, for null) instead of the token source's, and is
   * never renewed: the calls that mint or end a session carry their own credential.
   */
  async call<N extends RouteName>(
    name: N,
    input: CallInput<N>,
    options: { token?: string | null } = {},
  ): Promise<CallResult<RouteResult<Routes[N]>>> {
    const route: RouteDescriptor = routes[name];
    const { params, query, body, projectId } = input as {
      params?: Record<string, string | number>;
      query?: object;
      body?: unknown;
      projectId?: string;
    };
    try {
      const path = buildPath(route.path, params) + queryString(query);
      const response =
        options.token !== undefined
          ? await this.#send(route.method, path, options.token, { body, projectId })
          : await this.#authorized(route.method, path, { body, projectId });
      const parsed = readJson(await response.text());
      if (!response.ok) return { ok: false, problem: readProblem(response.status, parsed) };
      if (parsed === null && response.status !== 204)
        return { ok: false, problem: problem('internal', `${this.url} does not answer like a Gatehouse daemon.`) };
      const total = route.paged ? response.headers.get('x-total-count') : null;
      const next = route.paged ? response.headers.get('x-next-cursor') : null;
      return {
        ok: true,
        data: parsed as RouteResult<Routes[N]>,
        ...(total !== null ? { total: Number(total) } : {}),
        ...(next !== null ? { next } : {}),
      };
    } catch (error) {
      if (error instanceof Unreachable) return { ok: false, problem: error.problem };
      throw error;
    }
  }

  /**
   * One connection to `GET /v1/events`: yields its messages until the daemon ends the stream or
   * `signal` aborts. A refused connection throws its problem (as `StreamRefused`).
   */
  async *stream(options: Omit<FollowOptions, 'reconnectMs'> = {}): AsyncGenerator<StreamMessage> {
    let response: HttpResponse;
    try {
      response = await this.#authorized('GET', routes.events.path, {
        projectId: options.projectId,
        headers: {
          accept: 'text/event-stream',
          ...(options.lastEventId !== undefined ? { 'last-event-id': options.lastEventId } : {}),
        },
      });
    } catch (error) {
      if (error instanceof Unreachable) throw new StreamRefused(error.problem);
      throw error;
    }
    if (!response.ok || !response.body) {
      throw new StreamRefused(readProblem(response.status, readJson(await response.text())));
    }
    const reader = response.body.getReader();
    // Aborting cancels the body, which ends the read below (the transport takes no signal: the
    // platform's AbortSignal type is not in shared/'s libraries).
    options.signal?.addEventListener('abort', () => void reader.cancel().catch(() => undefined));
    if (options.signal?.aborted) return;
    const decoder = newDecoder();
    const ready: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (message) => ready.push(message) });
    try {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) return;
        parser.feed(decoder.decode(chunk.value, { stream: true }));
        for (const message of ready.splice(0))
          yield { event: message.event ?? 'message', data: message.data, id: message.id };
      }
    } catch {
      // The daemon cut the connection (it does on shutdown), or we aborted: the stream has ended.
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }

  /**
   * Follows the event stream until `signal` aborts: after a drop it reconnects with the last
   * event id received, so nothing is missed or repeated. A refusal other than an unreachable or
   * failing daemon (not a member, signed out) ends it — reconnecting would not change that.
   */
  async follow(options: FollowOptions, listener: (message: StreamMessage) => void): Promise<Problem | null> {
    let lastEventId = options.lastEventId;
    while (!options.signal?.aborted) {
      try {
        for await (const message of this.stream({ ...options, lastEventId })) {
          if (message.id !== undefined) lastEventId = message.id;
          listener(message);
        }
      } catch (error) {
        if (!(error instanceof StreamRefused)) throw error;
        if (error.problem.status < 500) return error.problem;
      }
      if (options.signal?.aborted) break;
      await sleep(options.reconnectMs ?? 2000);
    }
    return null;
  }

  /** A request with the current token; after a 401 for that token, renewed once and sent again. */
  async #authorized(
    method: string,
    path: string,
    extra: {
      body?: unknown;
      projectId?: string | undefined;
      headers?: Record<string, string>;
      signal?: AbortSignalLike | undefined;
    },
  ): Promise<HttpResponse> {
    const tokens = this.#options.tokens;
    const sent = (await tokens?.token()) ?? null;
    const response = await this.#send(method, path, sent, extra);
    if (response.status !== 401 || !sent || !tokens?.renew) return response;
    // Another call may have renewed meanwhile; renew only if the refused token is still current.
    if ((await tokens.token()) === sent) await this.renew();
    const fresh = await tokens.token();
    if (!fresh || fresh === sent) return response;
    await response.body
      ?.getReader()
      .cancel()
      .catch(() => undefined);
    return this.#send(method, path, fresh, extra);
  }

  /**
   * Renews the token through the token source, once at a time: a call made while a renewal is
   * under way waits for that one (the token source also calls this to renew ahead of expiry).
   */
  renew(): Promise<void> {
    this.#renewing ??= (async () => {
      try {
        await this.#options.tokens?.renew?.();
      } finally {
        this.#renewing = undefined;
      }
    })();
    return this.#renewing;
  }

  async #send(
    method: string,
    path: string,
    token: string | null,
    extra: {
      body?: unknown;
      projectId?: string | undefined;
      headers?: Record<string, string>;
      signal?: AbortSignalLike | undefined;
    },
  ): Promise<HttpResponse> {
    const url = this.url;
    if (!url) throw new Unreachable(unavailable(null));
    const headers: Record<string, string> = { accept: 'application/json', ...extra.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    const projectId = extra.projectId ?? this.#options.projectId;
    if (projectId) headers['x-project-id'] = projectId;
    if (extra.body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await this.#options.fetch(url + path, {
        method,
        headers,
        ...(extra.body !== undefined ? { body: JSON.stringify(extra.body) } : {}),
        ...(this.#options.sameOriginCookies ? { credentials: 'same-origin' as const } : {}),
      });
    } catch (error) {
      throw new Unreachable(unavailable(url, error));
    }
  }
}

/** The event stream was refused, or the daemon could not be reached: its problem. */
export class StreamRefused extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}
