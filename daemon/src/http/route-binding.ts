import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  OtasFailure,
  Problem,
  successStatus,
  type PageQuery,
  type RouteBody,
  type RouteDescriptor,
  type RouteParams,
  type RouteQuery,
  type RouteResult,
} from '@gatehouse/shared';
import { otasErrorHandler, requireHeaders } from './otas.js';
import {
  authenticate,
  authenticatedAgent,
  type AgentAuthContext,
  type AuthContext,
  type AuthFor,
} from './authenticate.js';
import { compileSerializer } from './serializers.js';
import { contractValidatorCompiler } from './validators.js';
import type { Services } from './services.js';

/**
 * A success answer already written by its route's response serializer (`answerSerializer`), sent
 * as it is: what a handler returns when it keeps answers (whoami, in system.routes.ts).
 */
export class SerializedAnswer<T = unknown> {
  declare private readonly answerOf: T;
  /** Encoded once, as it is sent many times. */
  readonly bytes: Buffer;
  constructor(json: string) {
    this.bytes = Buffer.from(json);
  }
}

/** What a route handler receives: validated input, the caller, and the reply for headers. */
export interface RouteContext<R extends RouteDescriptor> {
  params: RouteParams<R>;
  query: RouteQuery<R>;
  body: RouteBody<R>;
  auth: AuthFor<R['auth']>;
  services: Services;
  request: FastifyRequest;
  reply: FastifyReply;
}

/**
 * Paged list handlers return their page and the total, and lists paged by cursor the next page's
 * cursor (null on the last page); the binding sends them as `X-Total-Count`, `X-Next-Cursor` and `Link`.
 */
type HandlerResult<R extends RouteDescriptor> = R['paged'] extends true
  ? { items: RouteResult<R>; total: number; next?: string | null }
  : RouteResult<R> | SerializedAnswer<RouteResult<R>> | void;

/**
 * A page of a list that is read whole (tools, roles, keys of one agent, projects, members,
 * tokens: short lists, where paging in SQL would buy nothing).
 */
export function pageOf<T>(items: T[], query: PageQuery): { items: T[]; total: number } {
  const offset = query.offset ?? 0;
  return { items: items.slice(offset, offset + (query.limit ?? 20)), total: items.length };
}

export interface RouteBinding {
  route: RouteDescriptor;
  handler: (context: RouteContext<RouteDescriptor>) => unknown;
}

/**
 * Pairs a contract route with its implementation, type-checked against the route's schemas. A
 * handler whose answer is at hand (a cached agent answer) may return it as is, not in a promise:
 * it is then sent in the same turn.
 */
export function implement<R extends RouteDescriptor>(
  route: R,
  handler: (context: RouteContext<R>) => HandlerResult<R> | Promise<HandlerResult<R>>,
): RouteBinding {
  // The binding forgets R: registerRoutes gives each handler the context of its own route.
  return { route, handler: handler as unknown as RouteBinding['handler'] };
}

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

const serializers = new WeakMap<RouteDescriptor, (result: unknown) => SerializedAnswer>();
/**
 * A route's success answers written as its response schema has them, by the same serializer
 * Fastify would use (serializers.ts), compiled on first use: for answers kept to be sent again.
 */
export function answerSerializer<R extends RouteDescriptor>(
  route: R,
): (result: RouteResult<R>) => SerializedAnswer<RouteResult<R>> {
  let serialize = serializers.get(route);
  if (!serialize) {
    const schema = route.response[successStatus(route) as 200] as object as Record<string, unknown>;
    let compiled: ((data: unknown) => string) | undefined;
    serialize = (result) => new SerializedAnswer((compiled ??= compileSerializer(schema))(result));
    serializers.set(route, serialize);
  }
  // The answer's type is the route's: this serializer writes that route's success schema.
  return serialize as (result: RouteResult<R>) => SerializedAnswer<RouteResult<R>>;
}

const toFastifyPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

/**
 * The onRequest hook of a route that needs a caller: sets `request.auth`, or fails with its
 * problem. A cached agent passes at once; anything else waits for `authenticate`.
 */
function authenticated(services: Services, level: Exclude<RouteDescriptor['auth'], 'public'>) {
  return (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void) => {
    const agent = authenticatedAgent(services, request, level);
    if (agent) {
      request.auth = agent;
      return done();
    }
    authenticate(services, request, level).then((auth) => {
      request.auth = auth;
      done();
    }, done);
  };
}

/** OpenAPI security: every authenticated route takes a bearer token or an `X-API-Key`. */
const SECURITY: Array<Record<string, string[]>> = [{ bearer: [] }, { apiKey: [] }];

/** Registers each binding's route with its schemas (validation, serialisation, OpenAPI) and auth. */
export function registerRoutes(app: FastifyInstance, services: Services, bindings: RouteBinding[]): void {
  // Declared up front (once, for the app and its scopes) so every request object keeps one shape;
  // set per request by the auth hook.
  if (!app.hasRequestDecorator('auth')) app.decorateRequest('auth', undefined);
  for (const { route, handler } of bindings) {
    const status = successStatus(route);
    const operationId = operationIds.get(route);
    app.route({
      method: route.method,
      url: toFastifyPath(route.path),
      ...(route.otas ? { config: { otas: route.otas } } : {}),
      schema: {
        ...(operationId ? { operationId } : {}),
        summary: route.summary,
        tags: [route.tag],
        ...(route.params ? { params: route.params } : {}),
        ...(route.querystring ? { querystring: route.querystring } : {}),
        ...(route.body ? { body: route.body } : {}),
        ...(route.auth !== 'public' ? { security: SECURITY } : {}),
        response: {
          ...route.response,
          '4xx': route.otas ? OtasFailure : Problem,
          '5xx': route.otas ? OtasFailure : Problem,
        },
      },
      // Authentication runs before the body is parsed: an anonymous caller learns nothing from
      // validation errors. Public routes get no hook, and the hook takes a callback: an async hook
      // would cost a promise and a microtask of its own on every request.
      onRequest: [
        ...(route.otas?.requireHeaders ? [requireHeaders(route.otas.requireHeaders, route.otas.missing)] : []),
        ...(route.auth !== 'public' ? [authenticated(services, route.auth)] : []),
      ],
      ...(route.otas ? { errorHandler: otasErrorHandler(route.otas) } : {}),
      // No body at all reads as `{}`, by the body's validator (see contractValidatorCompiler).
      validatorCompiler: contractValidatorCompiler,
      handler: (request, reply) => {
        const result = handler({
          params: request.params,
          query: request.query,
          body: request.body,
          auth: request.auth ?? null,
          services,
          request,
          reply,
        } as RouteContext<RouteDescriptor>);
        // An answer at hand is sent now; Fastify sends an error from the promise's rejection.
        if (result instanceof Promise) return result.then((value) => answer(reply, value));
        answer(reply, result);
      },
    });
    /**
     * Sends a handler's result with the route's success status (and a page's total). Returns
     * nothing: a promise that resolved to the reply would have Fastify send it a second time.
     */
    function answer(reply: FastifyReply, result: unknown): void {
      // A streaming handler (Server-Sent Events) answered on the raw socket itself.
      if (reply.sent) return;
      if (status === 204) {
        reply.status(204).send();
        return;
      }
      // A status the handler set stays; otherwise the route's own (most are 200, already set).
      if (status !== 200 && reply.statusCode === 200) reply.status(status);
      // Bytes with a JSON content type are sent as they are, not serialised again.
      if (result instanceof SerializedAnswer) reply.type(JSON_CONTENT_TYPE).send(result.bytes);
      else if (route.paged) {
        const page = result as { items: unknown; total: number; next?: string | null };
        reply.header('X-Total-Count', String(page.total));
        if (page.next) {
          reply.header('X-Next-Cursor', page.next);
          reply.header('Link', `<${nextPageUrl(reply.request.url, page.next)}>; rel="next"`);
        }
        reply.send(page.items);
      } else reply.send(result);
    }
  }
}

/** The request's own path and query, on the page after this one: its cursor instead of any offset. */
function nextPageUrl(requestUrl: string, cursor: string): string {
  const url = new URL(requestUrl, 'http://daemon');
  url.searchParams.delete('offset');
  url.searchParams.set('cursor', cursor);
  return url.pathname + url.search;
}

const operationIds = new WeakMap<RouteDescriptor, string>();
/** Names each descriptor by its key in the contract's route table (the OpenAPI operationId). */
export function nameRoutes(table: Record<string, RouteDescriptor>): void {
  for (const [name, route] of Object.entries(table)) operationIds.set(route, name);
}

declare module 'fastify' {
  interface FastifyRequest {
    auth?: AuthContext | AgentAuthContext;
  }
}
