import type { FastifyReply, FastifyRequest } from 'fastify';
import { routes, type TokenPair } from '@gatehouse/shared';
import { ProblemError } from '../../errors.js';
import { implement } from '../route-binding.js';

const REFRESH_COOKIE = 'gatehouse_refresh';
const REFRESH_DAYS = 30;
/** The cookie goes only to the session routes, never with an API call. */
const COOKIE_OPTIONS = { path: routes.consoleSignIn.path, httpOnly: true, sameSite: 'strict' } as const;

const client = (request: FastifyRequest) => ({ source: request.ip, userAgent: request.headers['user-agent'] ?? null });

/** The access token goes to the page (kept in memory only); the refresh token stays in the cookie. */
function answer(reply: FastifyReply, tokens: TokenPair) {
  reply.setCookie(REFRESH_COOKIE, tokens.refresh_token, { ...COOKIE_OPTIONS, maxAge: REFRESH_DAYS * 86_400 });
  return { access_token: tokens.access_token, expires_in: tokens.expires_in };
}

const clearCookie = (reply: FastifyReply) => reply.clearCookie(REFRESH_COOKIE, COOKIE_OPTIONS);

/**
 * The browser console's session (SPEC §1), its cookie read and written by @fastify/cookie, which
 * only the scope of these routes registers (see registerConsole). Cross-site use is refused by
 * the Host/Origin guard and by SameSite=Strict.
 */
export const consoleRoutes = [
  implement(routes.consoleSignIn, async ({ services, body, request, reply }) =>
    answer(reply, await services.sessions.login(body, client(request))),
  ),

  implement(routes.consoleRefresh, async ({ services, request, reply }) => {
    const refreshToken = request.cookies[REFRESH_COOKIE];
    if (!refreshToken) throw new ProblemError('unauthorized', 'No console session: sign in.');
    try {
      return answer(reply, await services.sessions.refresh(refreshToken, client(request)));
    } catch (error) {
      clearCookie(reply);
      throw error;
    }
  }),

  // Signing out ends the session on the daemon, not only in this browser.
  implement(routes.consoleSignOut, async ({ services, request, reply }) => {
    const refreshToken = request.cookies[REFRESH_COOKIE];
    if (refreshToken) await services.sessions.logoutByRefreshToken(refreshToken, request.ip);
    clearCookie(reply);
  }),
];
