import type { FastifyRequest } from 'fastify';
import type { RouteAuth } from '../../../shared/src/index.js';
import { ProblemError } from '../errors.js';
import { userActor, type Actor } from '../domain/actor.js';
import type { ProjectScope } from '../domain/projects/projects.service.js';
import { isUserAdmin } from '../domain/users/users.service.js';
import type { UserRow } from '../storage/entities.js';
import type { Services } from './services.js';

/** The authenticated human behind a request and the project it acts in. */
export interface AuthContext extends ProjectScope {
  user: UserRow;
  via: 'session' | 'personal_token';
  /** The session of an access token; null for personal tokens. */
  sessionId: string | null;
  actor: Actor & { user: UserRow };
}

const missing = () => new ProblemError('unauthorized', 'Sign in first: send Authorization: Bearer <token> (or X-API-Key).');
const rejected = () => new ProblemError('unauthorized', 'The credentials are invalid, expired or revoked.');

/** The credential a request carries: `Authorization: Bearer`, `X-API-Key` or OTAS's `X-OTAS-USER-TOKEN`. */
export function presentedCredential(request: FastifyRequest): string | null {
  const authorization = request.headers.authorization;
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match ? match[1]! : null;
  }
  const header = request.headers['x-api-key'] ?? request.headers['x-otas-user-token'];
  return typeof header === 'string' && header.length > 0 ? header : null;
}

/** `X-Project-Id`, or OTAS's `X-OTAS-PROJECT-ID`. */
export function requestedProject(request: FastifyRequest): string | undefined {
  const value = request.headers['x-project-id'] ?? request.headers['x-otas-project-id'];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Authenticates the request and checks the route's access level; throws 401/403/404 problems. */
export async function authenticate(services: Services, request: FastifyRequest, level: Exclude<RouteAuth, 'public'>): Promise<AuthContext> {
  const credential = presentedCredential(request);
  if (!credential) throw missing();

  let identity: { user: UserRow; via: AuthContext['via']; sessionId: string | null } | null = null;
  if (credential.startsWith('ghp_')) {
    const found = await services.personalTokens.authenticate(credential);
    if (found) identity = { user: found.user, via: 'personal_token', sessionId: null };
  } else if (credential.split('.').length === 3) {
    const found = await services.sessions.authenticate(credential);
    if (found) identity = { user: found.user, via: 'session', sessionId: found.sessionId };
  }
  if (!identity) throw rejected();

  const scope = await services.projects.resolveScope(identity.user, requestedProject(request));
  const context: AuthContext = { ...identity, ...scope, actor: userActor(identity.user, request.ip) };

  if (level === 'project_member' && scope.privilege === null) {
    throw new ProblemError('forbidden', `You are not a member of project "${scope.project.slug}".`);
  }
  if (level === 'project_admin' && scope.privilege !== 1) {
    throw new ProblemError('forbidden', `You need admin privilege on project "${scope.project.slug}".`);
  }
  if (level === 'user_admin' && !isUserAdmin(identity.user)) {
    throw new ProblemError('forbidden', 'Only admins can manage users and projects.');
  }
  return context;
}
