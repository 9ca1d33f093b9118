import { ConsoleSession, LoginRequest } from '../schemas/auth.js';
import { Empty } from '../schemas/common.js';
import { defineRoutes } from '../route.js';

/**
 * The session of the console the daemon serves in a browser (SPEC §1). Its refresh token lives
 * only in the `gatehouse_refresh` cookie: HttpOnly, SameSite=Strict and scoped to these paths.
 */
export const consoleRoutes = defineRoutes({
  consoleSignIn: {
    method: 'POST',
    path: '/console/session',
    auth: 'public',
    tag: 'console',
    summary: 'Sign the browser console in: the access token in the answer, the refresh token in an HttpOnly cookie',
    body: LoginRequest,
    response: { 200: ConsoleSession },
  },
  consoleRefresh: {
    method: 'POST',
    path: '/console/session/refresh',
    auth: 'public',
    tag: 'console',
    summary: "Rotate the browser console's refresh cookie for a new access token",
    response: { 200: ConsoleSession },
  },
  consoleSignOut: {
    method: 'DELETE',
    path: '/console/session',
    auth: 'public',
    tag: 'console',
    summary: "End the browser console's session on the daemon and clear its cookie",
    response: { 204: Empty },
  },
});
