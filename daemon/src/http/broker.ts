import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BROKER_AUDIENCE } from '@gatehouse/shared';
import type { Agent } from 'undici';
import { ProblemError } from '../errors.js';
import type { BrokeredConnection } from '../domain/connections/connections.service.js';
import { authenticate, type AgentAuthContext } from './authenticate.js';
import { EVERY_ANSWER_HEADERS } from './answer-headers.js';
import type { Services } from './services.js';

/** The largest request body the broker forwards. */
export const BROKER_BODY_LIMIT = 32 * 1024 * 1024;
/** How long the upstream may take to start answering, and to send each next chunk. */
export const BROKER_HEADERS_TIMEOUT_MS = 120_000;
export const BROKER_BODY_TIMEOUT_MS = 300_000;

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * Request headers that never reach the upstream: the agent's own credential (Gatehouse's, useless
 * and secret upstream), Gatehouse's project header, and those that belong to one hop.
 */
const DROPPED_REQUEST = new Set([
  'authorization',
  'x-api-key',
  'x-otas-user-token',
  'x-project-id',
  'x-otas-project-id',
  'host',
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'cookie',
]);
/** Answer headers of one hop; undici has already decoded the framing they describe. */
const DROPPED_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade']);
/** Query parameters whose values are credentials: never written to the audit chain. */
const CREDENTIAL_PARAMS = /^(?:.*[_-])?(?:key|token|secret|password|signature|sig|code|auth)$/i;

/**
 * `/proxy/<connection>/<path>`: the agent calls with its own credential; the broker checks the
 * grant and the connection's method and path rules, puts the upstream credential in place of the
 * agent's, and streams the answer back as it comes (SSE and chunked bodies are not buffered).
 * Registered in a scope of its own that parses no body: the request stream is forwarded as is.
 */
export async function registerBroker(app: FastifyInstance, services: Services): Promise<void> {
  // undici is imported with the first brokered call: a daemon with no connection called never holds it.
  let agent: Promise<Agent> | undefined;
  const timeouts = services.config.brokerTimeoutsMs ?? {
    headers: BROKER_HEADERS_TIMEOUT_MS,
    body: BROKER_BODY_TIMEOUT_MS,
  };
  const dispatcher = () =>
    (agent ??= import('undici').then(
      ({ Agent }) => new Agent({ headersTimeout: timeouts.headers, bodyTimeout: timeouts.body, connections: 256 }),
    ));
  app.addHook('onClose', async () => (await agent)?.close());

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { bodyLimit: BROKER_BODY_LIMIT }, (_request, _payload, done) => done(null));
    const handler = (request: FastifyRequest, reply: FastifyReply) => broker(services, dispatcher, request, reply);
    for (const url of ['/proxy/:connection', '/proxy/:connection/*'])
      scope.route({ method: [...METHODS], url, schema: { hide: true }, handler });
  });
}

interface CallRecord {
  auth: AgentAuthContext;
  connection: string;
  method: string;
  path: string;
  started: number;
}

async function broker(
  services: Services,
  dispatcher: () => Promise<Agent>,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  // 1. authenticate: an agent, with its key or an agent token
  const auth = (await authenticate(services, request, 'agent', BROKER_AUDIENCE)) as AgentAuthContext;
  const { connection: name } = request.params as { connection: string };
  const started = performance.now();
  const queryAt = request.url.indexOf('?');
  const rest = (request.params as { '*'?: string })['*'] ?? '';
  const path = `/${rest}`;
  const call: CallRecord = {
    auth,
    connection: name,
    method: request.method,
    path: auditedPath(path, request.url, queryAt),
    started,
  };
  try {
    // 2. the connection, the grant, the connection's own rules and the grant's narrowing of them
    const connection = await services.connections.forBroker(auth.project.id, name);
    if (!connection) throw new ProblemError('not_found', `No connection "${name}" in project "${auth.project.slug}".`);
    const grant = await services.permissions.authorize(auth.agent, connection.tool, auth.claims?.tools ?? null);
    if (!grant.allowed)
      throw new ProblemError(
        'connection_not_granted',
        grant.approval_required
          ? `"${connection.tool}" needs a human approval on each use, which the broker cannot ask for.`
          : `Agent "${auth.agent.name}" holds no grant of "${connection.tool}".`,
      );
    if (!connection.allows(request.method, path))
      throw new ProblemError('path_not_allowed', `Connection "${name}" does not allow ${request.method} ${path}.`);
    const granted = await services.connectionGrants.grantedRequests(auth.agent, connection);
    if (!granted(request.method, path))
      throw new ProblemError(
        'path_not_allowed',
        `Agent "${auth.agent.name}" is granted "${name}" for other methods or paths than ${request.method} ${path}.`,
      );
    const length = Number(request.headers['content-length'] ?? 0);
    if (length > BROKER_BODY_LIMIT) throw tooLarge();
    // 3. the usage limits: counted only for a call that is otherwise allowed
    const limit = await services.limits.check({ agentId: auth.agent.id, keyId: auth.keyId, connection: name });
    if (!limit.allowed) throw new ProblemError('limit_reached', limit.detail, { headers: limit.headers });

    // 4. forward, with the upstream credential in place of the agent's; 5. relay the answer as it comes
    await relay(services, await dispatcher(), connection, request, reply, {
      path,
      queryAt,
      limitHeaders: limit.headers,
      call,
    });
    return reply;
  } catch (error) {
    const problem = asProblem(error);
    audit(services, call, problem.status, 0, false, problem.code);
    throw problem;
  }
}

/**
 * Sends the request upstream and writes the answer to the agent's socket as it arrives, through
 * undici's handler interface: no stream stands between the two sockets, a slow reader pauses the
 * upstream (SSE and chunked answers are not buffered), and the call is audited once the answer is
 * all sent or cut. Resolves once the answer has begun; rejects, with nothing sent, when the
 * upstream fails before answering.
 */
async function relay(
  services: Services,
  dispatcher: Agent,
  connection: BrokeredConnection,
  request: FastifyRequest,
  reply: FastifyReply,
  {
    path,
    queryAt,
    limitHeaders,
    call,
  }: { path: string; queryAt: number; limitHeaders: Record<string, string> | null; call: CallRecord },
): Promise<void> {
  const { injection } = connection.row;
  const headers = upstreamHeaders(request.headers);
  const secret = connection.secret ?? (await services.connections.accessToken(connection.row));
  let search = queryAt === -1 ? '' : request.url.slice(queryAt);
  if (injection.kind === 'header')
    headers[injection.name.toLowerCase()] = injection.template.replace('{secret}', secret);
  else {
    const query = new URLSearchParams(search);
    query.set(injection.name, secret);
    search = `?${query.toString()}`;
  }
  const hasBody = request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined;
  // A body of a known length was checked against the limit already (and undici holds it to its length).
  const body =
    !hasBody || request.method === 'GET' || request.method === 'HEAD'
      ? null
      : request.headers['content-length'] !== undefined
        ? request.raw
        : request.raw.pipe(limited());
  return new Promise((resolve, reject) => {
    let raw: ServerResponse | undefined;
    let abortUpstream: (error?: Error) => void = () => undefined;
    let status = 0;
    let bytes = 0;
    dispatcher.dispatch(
      {
        origin: connection.origin,
        path: `${connection.basePath}${path}${search}`,
        method: request.method as (typeof METHODS)[number],
        headers,
        body,
      },
      {
        onConnect: (abort) => (abortUpstream = abort),
        onHeaders: (statusCode, rawHeaders, resume) => {
          // An informational answer (103 Early Hints) is not the answer.
          if (statusCode < 200) return true;
          status = statusCode;
          const response = (raw = reply.hijack().raw);
          if (response.destroyed) {
            // The agent went away while the upstream was still to answer: no 'close' is to come.
            abortUpstream();
            audit(services, call, status, 0, false);
            resolve();
            return false;
          }
          response.once('close', () => {
            // The agent went away before the end: stop reading the upstream.
            if (!response.writableFinished) abortUpstream();
            audit(services, call, status, bytes, response.writableFinished);
          });
          response.on('drain', resume);
          response.writeHead(statusCode, answerHeaders(rawHeaders, request.id, limitHeaders));
          resolve();
          return true;
        },
        onData: (chunk) => {
          bytes += chunk.length;
          return raw!.write(chunk);
        },
        onComplete: () => raw!.end(),
        onError: (error) => (raw ? raw.destroy() : reject(error)),
      },
    );
  });
}

/**
 * The upstream's answer headers, less those of one hop, with those of every answer of the
 * daemon's. The daemon's request id is the answer's, as on every other answer (the one its log
 * knows the call by); the upstream's own, which its support asks for, is kept as
 * `x-upstream-request-id`.
 */
function answerHeaders(
  rawHeaders: Buffer[],
  requestId: string,
  limitHeaders: Record<string, string> | null,
): OutgoingHttpHeaders {
  const upstream: Record<string, string | string[]> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    let name = rawHeaders[i]!.toString('latin1').toLowerCase();
    if (DROPPED_RESPONSE.has(name)) continue;
    if (name === 'x-request-id') name = 'x-upstream-request-id';
    const value = rawHeaders[i + 1]!.toString('latin1');
    const earlier = upstream[name];
    // A header the upstream repeats (Set-Cookie) stays repeated.
    upstream[name] = earlier === undefined ? value : Array.isArray(earlier) ? [...earlier, value] : [earlier, value];
  }
  return { ...EVERY_ANSWER_HEADERS, ...limitHeaders, ...upstream, 'x-request-id': requestId };
}

function upstreamHeaders(incoming: IncomingHttpHeaders): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming))
    if (value !== undefined && !DROPPED_REQUEST.has(name)) headers[name] = value;
  return headers;
}

const tooLarge = () =>
  new ProblemError('payload_too_large', `The request body is larger than ${BROKER_BODY_LIMIT / 1024 / 1024} MiB.`);

/** Passes the body through, failing once it passes the limit (a chunked body has no length to check first). */
function limited(): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, next) {
      seen += chunk.length;
      next(seen > BROKER_BODY_LIMIT ? tooLarge() : null, chunk);
    },
  });
}

function asProblem(error: unknown): ProblemError {
  if (error instanceof ProblemError) return error;
  // undici's errors by their documented codes (its classes are not loaded until the first call).
  const undiciCode = (error as { code?: unknown }).code;
  if (undiciCode === 'UND_ERR_HEADERS_TIMEOUT' || undiciCode === 'UND_ERR_BODY_TIMEOUT')
    return new ProblemError('upstream_timeout', 'The upstream did not answer in time.');
  if (undiciCode === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH')
    return new ProblemError('bad_request', 'The Content-Length does not match the body.');
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof ProblemError) return cause;
  // Connection refused, reset, DNS, TLS: the code is enough, the message may hold internals.
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  return new ProblemError('upstream_unreachable', `The upstream could not be reached (${code}).`);
}

/** The path as audited: credential-like query parameters are dropped, values of the others kept. */
function auditedPath(path: string, url: string, queryAt: number): string {
  if (queryAt === -1) return path;
  const query = new URLSearchParams(url.slice(queryAt + 1));
  for (const name of [...query.keys()]) if (CREDENTIAL_PARAMS.test(name)) query.delete(name);
  return query.size > 0 ? `${path}?${query.toString()}` : path;
}

function audit(services: Services, call: CallRecord, status: number, bytes: number, complete: boolean, code?: string) {
  const { auth } = call;
  services.callAudit.record({
    event_type: 'connection.called',
    actor: auth.actor,
    outcome: status < 400 && complete ? 'success' : 'failure',
    agent_id: auth.agent.id,
    project_id: auth.project.id,
    target: `connection:${call.connection}`,
    at: new Date().toISOString(),
    metadata: {
      method: call.method,
      path: call.path,
      status,
      bytes,
      duration_ms: Math.round(performance.now() - call.started),
      ...(code ? { refused: code } : {}),
      ...(!complete && !code ? { interrupted: true } : {}),
    },
  });
}
