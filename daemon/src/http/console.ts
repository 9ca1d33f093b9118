import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LoginRequest } from '@gatehouse/shared';
import { ProblemError } from '../errors.js';
import { PACKAGE_DIR } from '../package-info.js';
import type { Services } from './services.js';

/** The console built by `npm run build` (electron-vite's renderer output). */
export const CONSOLE_DIR = join(PACKAGE_DIR, 'out', 'renderer');

const REFRESH_COOKIE = 'gatehouse_refresh';
const COOKIE_PATH = '/console/session';
const REFRESH_DAYS = 30;

/** The console's own pages may run only their own scripts and talk only to this daemon. */
const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

const API_PREFIXES = [
  '/v1/',
  '/admin/',
  '/auth/',
  '/api/',
  '/console/',
  '/docs',
  '/openapi.json',
  '/healthz',
  '/.well-known/',
];

function refreshCookie(value: string, maxAgeSeconds: number): string {
  return `${REFRESH_COOKIE}=${value}; Path=${COOKIE_PATH}; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}`;
}

function readRefreshCookie(request: FastifyRequest): string | null {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === REFRESH_COOKIE) return value.join('=') || null;
  }
  return null;
}

/** The access token goes to the page (kept in memory only); the refresh token stays in an HttpOnly cookie. */
function answer(reply: FastifyReply, tokens: { access_token: string; refresh_token: string; expires_in: number }) {
  reply.header('Set-Cookie', refreshCookie(tokens.refresh_token, REFRESH_DAYS * 86_400));
  return { access_token: tokens.access_token, expires_in: tokens.expires_in };
}

/**
 * The daemon-served console (SPEC §1): the same renderer as the desktop app, at `/`, with a
 * browser session whose refresh token never reaches page script — an HttpOnly, SameSite=Strict
 * cookie scoped to the session routes. Cross-site use is refused by the Host/Origin guard, and
 * these routes take JSON only (a cross-site form cannot send it).
 */
export async function registerConsole(app: FastifyInstance, services: Services): Promise<void> {
  const client = (request: FastifyRequest) => ({
    source: request.ip,
    userAgent: request.headers['user-agent'] ?? null,
  });

  app.post('/console/session', { schema: { body: LoginRequest, hide: true } }, async (request, reply) =>
    answer(reply, await services.sessions.login(request.body as LoginRequest, client(request))),
  );

  app.post('/console/session/refresh', { schema: { hide: true } }, async (request, reply) => {
    const refreshToken = readRefreshCookie(request);
    if (!refreshToken) throw new ProblemError('unauthorized', 'No console session: sign in.');
    try {
      return answer(reply, await services.sessions.refresh(refreshToken, client(request)));
    } catch (error) {
      reply.header('Set-Cookie', refreshCookie('', 0));
      throw error;
    }
  });

  // Signing out ends the session on the daemon, not only in this browser.
  app.delete('/console/session', { schema: { hide: true } }, async (request, reply) => {
    const refreshToken = readRefreshCookie(request);
    if (refreshToken) await services.sessions.logoutByRefreshToken(refreshToken, request.ip);
    reply.header('Set-Cookie', refreshCookie('', 0));
    return reply.status(204).send();
  });

  if (!existsSync(join(CONSOLE_DIR, 'index.html'))) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type('text/plain; charset=utf-8')
        .send('The console is not built: run `npm run build` (the API is here; its docs at /docs).\n'),
    );
    return;
  }
  // The console routes in the URL's hash (`/#/agents/…`), so the daemon serves no path of its own
  // for it: no catch-all route, which would also take an API path's 404 and 414 problems.
  await app.register(fastifyStatic, { root: CONSOLE_DIR, prefix: '/', wildcard: false, index: ['index.html'] });
  // A callback hook: it runs on every request, where an async one costs a promise.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (!API_PREFIXES.some((prefix) => request.url.startsWith(prefix)))
      reply.header('Content-Security-Policy', CONSOLE_CSP);
    done(null, payload);
  });
}
