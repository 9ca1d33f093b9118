import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { PACKAGE_DIR } from '../package-info.js';
import { registerRoutes } from './route-binding.js';
import { consoleRoutes } from './routes/console.routes.js';
import type { Services } from './services.js';

/** The console built by `npm run build` (electron-vite's renderer output). */
export const CONSOLE_DIR = join(PACKAGE_DIR, 'out', 'renderer');

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

/** The Content-Security-Policy of the answer to a URL, if it has one of its own. */
export type PagePolicy = (url: string) => string | undefined;

/** The console's own pages (anything not under an API prefix) run only their own scripts. */
const consolePagePolicy: PagePolicy = (url) =>
  API_PREFIXES.some((prefix) => url.startsWith(prefix)) ? undefined : CONSOLE_CSP;

/**
 * The daemon-served console (SPEC §1): the same renderer as the desktop app, at `/`, with a
 * browser session whose refresh token never reaches page script — an HttpOnly, SameSite=Strict
 * cookie scoped to the session routes. Cross-site use is refused by the Host/Origin guard, and
 * these routes take JSON only (a cross-site form cannot send it). Resolves to the policy of its
 * pages, which app.ts's one onSend hook sets (a hook of its own would cost a call per request).
 */
export async function registerConsole(app: FastifyInstance, services: Services): Promise<PagePolicy> {
  // Only the session routes read and write cookies: the plugin's hooks stay off every other route.
  await app.register(async (scope) => {
    await scope.register(fastifyCookie);
    registerRoutes(scope, services, consoleRoutes);
  });

  if (!existsSync(join(CONSOLE_DIR, 'index.html'))) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type('text/plain; charset=utf-8')
        .send('The console is not built: run `npm run build` (the API is here; its docs at /docs).\n'),
    );
    return () => undefined;
  }
  // The console routes in the URL's hash (`/#/agents/…`), so the daemon serves no path of its own
  // for it: no catch-all route, which would also take an API path's 404 and 414 problems.
  await app.register(fastifyStatic, { root: CONSOLE_DIR, prefix: '/', wildcard: false, index: ['index.html'] });
  return consolePagePolicy;
}
