import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { routes } from '@gatehouse/shared';
import { lazyChildLogger, type DaemonLogger } from '../logging.js';
import { VERSION } from '../package-info.js';
import { registerBroker } from './broker.js';
import { registerConsole, type PagePolicy } from './console.js';
import { addressCheck, hostGuard, remoteNames } from './host-guard.js';
import { listeningPort } from './listening-port.js';
import { registerMcpEndpoint } from './mcp-endpoint.js';
import { EVERY_ANSWER_HEADERS } from './answer-headers.js';
import { registerAuthorizationServer } from './oauth-server.js';
import { clientErrorHandler, errorHandler, frameworkErrorHandler, notFoundHandler, sendProblem } from './problems.js';
import { nameRoutes, registerRoutes } from './route-binding.js';
import { consoleRoutes } from './routes/console.routes.js';
import { routeBindings } from './routes/index.js';
import { serializerCompiler } from './serializers.js';
import { validatorCompiler } from './validators.js';
import type { Services } from './services.js';

export const BODY_LIMIT = 1024 * 1024;

/** Every answer but the docs' (which a browser may cache) is never stored. */
const API_ANSWER_HEADERS = { ...EVERY_ANSWER_HEADERS, 'cache-control': 'no-store' } as const;

/**
 * Two Host headers are joined into one value (which names no host, so the guard refuses it) rather
 * than Node's default of keeping the first; a request with none reaches the guard too, so that its
 * refusal is a problem like every other.
 */
const SERVER_OPTIONS = { joinDuplicateHeaders: true, requireHostHeader: false };

/**
 * Request ids: a random prefix of this app's own and a count, so that ids are unique across
 * restarts and replicas (a log may hold several) without drawing randomness per request.
 */
function requestIds(): () => string {
  const prefix = randomBytes(6).toString('hex');
  let count = 0;
  return () => `${prefix}-${(count++).toString(36)}`;
}

/** Builds the daemon's Fastify app: guard, error handling, every contract route, OpenAPI and docs. */
export async function buildApp(
  services: Services,
  log: { logger: FastifyBaseLogger; request: DaemonLogger['request'] },
): Promise<FastifyInstance> {
  const { config } = services;
  // The listening port, read once it is known (asking the socket on every request costs).
  let port: number | undefined;
  const addressed = addressCheck({
    port: () => (port ??= listeningPort(app)) ?? config.port,
    ...(config.allowRemote ? { remoteNames: remoteNames(config.host) } : {}),
    allowOrigins: config.allowOrigins,
    scheme: config.tls ? 'https' : 'http',
  });
  // Once shutdown starts, in-flight answers end their connection: a kept-alive socket would hold the server open.
  let closing = false;
  const guard = hostGuard(addressed);

  const app = Fastify({
    loggerInstance: log.logger,
    // One line per request (below) instead of Fastify's two: request logging is most of the HTTP cost.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    genReqId: requestIds(),
    childLoggerFactory: lazyChildLogger,
    // A request during shutdown is answered by the first hook, as a problem (Fastify's own 503 is not one).
    return503OnClosing: false,
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    ...(config.tls
      ? { https: { ...SERVER_OPTIONS, cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) } }
      : { http: SERVER_OPTIONS }),
  }).withTypeProvider<TypeBoxTypeProvider>();

  // One synchronous hook for what every request must pass before routing: a hook per rule would
  // cost a hook call each, and an async one a promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    if (closing) {
      sendProblem(reply, 'shutting_down', 'The daemon is shutting down; try again once it has restarted.');
      return;
    }
    // On PostgreSQL, the other replicas' commits before this request are seen by it (see Database.caughtUp).
    const caughtUp = services.db.caughtUp();
    if (caughtUp) void caughtUp.then(() => guard(request, reply, done));
    else guard(request, reply, done);
  });
  // Only past the guard, so only for the origins an admin listed: preflights answered, CORS headers added.
  if (config.allowOrigins.length > 0) {
    await app.register(cors, {
      origin: config.allowOrigins,
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      // What a browser client reads: paging (totals, cursors) and when to come back (limits).
      exposedHeaders: [
        'X-Request-Id',
        'X-Total-Count',
        'X-Next-Cursor',
        'Link',
        'Retry-After',
        'RateLimit',
        'RateLimit-Policy',
      ],
      maxAge: 600,
    });
  }
  // Connections that have not sent a request yet (clients open them ahead of time) are neither
  // idle nor busy to Node, so a shutdown would wait out its grace period for them: cut them.
  const unused = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    unused.add(socket);
    socket.once('close', () => unused.delete(socket));
  });
  app.server.on('request', (request: IncomingMessage) => unused.delete(request.socket));
  app.addHook('preClose', async () => {
    closing = true;
    services.feed.close(); // event streams end, or they would hold the server open
    for (const socket of unused) socket.destroy();
  });
  // Hooks on every request take callbacks: an async hook costs a promise per request.
  app.addHook('onResponse', (request, reply, done) => {
    log.request({
      reqId: request.id,
      method: request.method,
      url: request.url,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    });
    done();
  });
  // Known once the console is registered (last, below); until then no answer has a policy.
  let pagePolicy: PagePolicy = () => undefined;
  // The one onSend hook: every answer's headers, and the console pages' policy.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    const { url } = request;
    // Agents call /v1/…, which has no page policy: its headers are one set.
    if (url.startsWith('/v1/')) reply.headers(API_ANSWER_HEADERS);
    else {
      reply.headers(url.startsWith('/docs') ? EVERY_ANSWER_HEADERS : API_ANSWER_HEADERS);
      const policy = pagePolicy(url);
      if (policy) reply.header('content-security-policy', policy);
    }
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  // JSON only. Fastify also parses text/plain by default, and text/plain is what a web page can
  // POST cross-site without a CORS preflight: refuse it with 415 before any handler runs.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Gatehouse',
        version: VERSION,
        description:
          'Identities and credentials for the AI agents on this machine. Errors are RFC 7807 problems with a stable `code`.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'Access token, agent key or agent token' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'Personal API token or agent key' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { url: '/openapi.json' } });

  nameRoutes(routes);
  // The console's session routes are registered by registerConsole, in a scope with cookies.
  registerRoutes(
    app,
    services,
    routeBindings.filter((binding) => !consoleRoutes.includes(binding)),
  );
  await registerBroker(app, services);
  await registerAuthorizationServer(app, services, () => {
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    return `${config.tls ? 'https' : 'http'}://${host}:${(port ??= listeningPort(app)) ?? config.port}`;
  });
  registerMcpEndpoint(app, services);
  pagePolicy = await registerConsole(app, services);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
