import { routes } from '@gatehouse/shared';
import { anonymousActor } from '../../domain/actor.js';
import { implement } from '../route-binding.js';

export const authRoutes = [
  implement(routes.setupStatus, async ({ services }) => ({ needs_setup: await services.users.needsSetup() })),

  implement(routes.setup, async ({ services, body, request }) =>
    services.users.setup(body, anonymousActor(request.ip)),
  ),

  implement(routes.login, async ({ services, body, request }) =>
    services.sessions.login(body, { source: request.ip, userAgent: request.headers['user-agent'] ?? null }),
  ),

  implement(routes.refresh, async ({ services, body, request }) =>
    services.sessions.refresh(body.refresh_token, {
      source: request.ip,
      userAgent: request.headers['user-agent'] ?? null,
    }),
  ),

  implement(routes.logout, async ({ services, auth }) => {
    // A personal token has no session to end; it is revoked through its own route.
    if (auth.sessionId) await services.sessions.logout(auth.sessionId, auth.actor);
  }),

  implement(routes.changePassword, async ({ services, auth, body }) => {
    await services.sessions.changePassword(
      auth.user,
      auth.sessionId,
      body.current_password,
      body.new_password,
      auth.actor,
    );
  }),

  implement(routes.mfaSetup, async ({ services, auth }) => services.mfa.setup(auth.user, auth.actor)),

  implement(routes.mfaVerify, async ({ services, auth, body }) => {
    await services.mfa.enable(auth.user, body.code, auth.actor);
    return { mfa_enabled: true };
  }),

  implement(routes.mfaDisable, async ({ services, auth, body }) => {
    await services.mfa.disable(auth.user, body.code, auth.actor);
    return { mfa_enabled: false };
  }),
];
