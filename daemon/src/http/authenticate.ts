import type { FastifyRequest } from 'fastify';
import type { RouteAuth } from '../../../shared/src/index.js';
import { ProblemError } from '../errors.js';
import { anonymousActor, userActor, type Actor } from '../domain/actor.js';
import type { AgentClaims } from '../domain/agents/agent-auth.service.js';
import type { ProjectScope } from '../domain/projects/projects.service.js';
import { grantedScopes } from '../domain/agents/agent-keys.service.js';
import { isUserAdmin } from '../domain/users/users.service.js';
import type { AgentRow } from '../storage/agent-entities.js';
import type { ProjectRow, UserRow } from '../storage/entities.js';
import type { Services } from './services.js';

/** An authenticated human and the project the request acts in. */
export interface AuthContext extends ProjectScope {
  kind: 'user';
  user: UserRow;
  via: 'session' | 'personal_token';
  /** The session of an access token; null for personal tokens. */
  sessionId: string | null;
  actor: Actor & { user: UserRow };
}

/** An authenticated agent, in its own project, with what its credential grants. */
export interface AgentAuthContext {
  kind: 'agent';
  agent: AgentRow;
  project: ProjectRow;
  via: 'agent_key' | 'agent_token';
  /** The key used (agent_key) — its scopes narrow the agent's when it has any. */
  keyId: string | null;
  claims: AgentClaims | null;
  scopes: string[];
  actor: Actor;
}

/** The context a route handler receives for its access level. */
export type AuthFor<L extends RouteAuth> = L extends 'public'
  ? null
  : L extends 'agent'
    ? AgentAuthContext
    : L extends 'any'
      ? AuthContext | AgentAuthContext
      : AuthContext;

const missing = () =>
  new ProblemError('unauthorized', 'Sign in first: send Authorization: Bearer <token> (or X-API-Key).');

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

type Identity =
  | { kind: 'user'; user: UserRow; via: AuthContext['via']; sessionId: string | null }
  | {
      kind: 'agent';
      agent: AgentRow;
      project: ProjectRow;
      via: AgentAuthContext['via'];
      keyId: string | null;
      keyScopes: string[];
      claims: AgentClaims | null;
    };

/** Who the credential belongs to; failures are counted, audited and answered 401 (429 past the limits). */
async function identify(services: Services, request: FastifyRequest, credential: string): Promise<Identity> {
  const actor = anonymousActor(request.ip);
  if (credential.startsWith('agent_')) {
    const check = await services.agentKeys.check(credential);
    if (!check.ok)
      throw await services.authFailures.fail({
        actor,
        reason: check.reason,
        prefix: check.prefix,
        agentId: check.agentId,
        projectId: check.projectId,
      });
    services.usage.keyUsed(check.key.id, check.agent.id);
    return {
      kind: 'agent',
      agent: check.agent,
      project: check.project,
      via: 'agent_key',
      keyId: check.key.id,
      keyScopes: check.key.scopes,
      claims: null,
    };
  }
  if (credential.startsWith('ghp_')) {
    const found = await services.personalTokens.authenticate(credential);
    if (found) return { kind: 'user', user: found.user, via: 'personal_token', sessionId: null };
    throw await services.authFailures.fail({
      actor,
      reason: 'invalid_personal_token',
      prefix: credential.split('_')[1] ?? null,
    });
  }
  const claims = credential.split('.').length === 3 ? await services.signer.verify(credential) : null;
  if (claims?.typ === 'user') {
    const found = await services.sessions.fromClaims(claims);
    if (found) return { kind: 'user', user: found.user, via: 'session', sessionId: found.sessionId };
  } else if (claims?.typ === 'agent') {
    const found = await services.agentAuth.fromClaims(claims);
    if (found)
      return {
        kind: 'agent',
        agent: found.agent,
        project: found.project,
        via: 'agent_token',
        keyId: null,
        keyScopes: [],
        claims: found.claims,
      };
  }
  throw await services.authFailures.fail({ actor, reason: claims ? 'stale_token' : 'invalid_token' });
}

/** Authenticates the request and checks the route's access level; throws 401/403/404/429 problems. */
export async function authenticate(
  services: Services,
  request: FastifyRequest,
  level: Exclude<RouteAuth, 'public'>,
): Promise<AuthContext | AgentAuthContext> {
  const credential = presentedCredential(request);
  if (!credential) throw missing();
  const identity = await identify(services, request, credential);

  if (identity.kind === 'agent') {
    if (level !== 'agent' && level !== 'any')
      throw new ProblemError('forbidden', 'This route needs a signed-in human; agent credentials cannot call it.');
    const { agent, project, claims } = identity;
    return {
      kind: 'agent',
      agent,
      project,
      via: identity.via,
      keyId: identity.keyId,
      claims,
      scopes: claims?.scopes ?? grantedScopes(identity.keyScopes, agent),
      actor: { label: `agent:${agent.name}`, user: null, source: request.ip },
    };
  }

  if (level === 'agent')
    throw new ProblemError('forbidden', 'This route is for agents: authenticate with the agent key or an agent token.');
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
