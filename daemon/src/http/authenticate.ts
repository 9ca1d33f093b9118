import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { RouteAuth } from '@gatehouse/shared';
import { ProblemError } from '../errors.js';
import { anonymousActor, userActor, type Actor } from '../domain/actor.js';
import type { AgentClaims, AuthenticatedAgent } from '../domain/agents/agent-auth.service.js';
import type { AuthFailure } from '../domain/auth/auth-failures.js';
import type { ProjectScope } from '../domain/projects/projects.service.js';
import { grantedScopes, type KeyCheck } from '../domain/agents/agent-keys.service.js';
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
  via: 'agent_key' | 'agent_token' | 'oauth_token';
  /** The key used (agent_key) — its scopes narrow the agent's when it has any. */
  keyId: string | null;
  /**
   * The verified credential: the key's cached row or the token's cached claims, one object per
   * credential while the database is unchanged (what kept whoami answers are kept by).
   */
  credential: object;
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
export function presentedCredential(headers: IncomingHttpHeaders): string | null {
  const authorization = headers.authorization;
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match ? match[1]! : null;
  }
  const header = headers['x-api-key'] ?? headers['x-otas-user-token'];
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
      credential: object;
    };

/** Why a credential is refused, for `AuthFailures` (which counts and audits it). */
type Refusal = { refused: Omit<AuthFailure, 'actor'> };

/**
 * Who the credential belongs to, or why it is refused. An accepted key's use is recorded here; a
 * refusal is not (see `identify`), so a caller may leave it to another to record, once.
 */
async function resolveCredential(services: Services, credential: string): Promise<Identity | Refusal> {
  if (credential.startsWith('agent_')) {
    const check = await services.agentKeys.check(credential);
    if (!check.ok) {
      const { reason, prefix, agentId, projectId } = check;
      return { refused: { reason, prefix, agentId, projectId } };
    }
    return keyIdentity(services, check);
  }
  if (credential.startsWith('ghp_')) {
    const found = await services.personalTokens.authenticate(credential);
    if (found) return { kind: 'user', user: found.user, via: 'personal_token', sessionId: null };
    return { refused: { reason: 'invalid_personal_token', prefix: credential.split('_')[1] ?? null } };
  }
  const claims = credential.split('.').length === 3 ? await services.signer.verify(credential) : null;
  if (claims?.typ === 'user') {
    const found = await services.sessions.fromClaims(claims);
    if (found) return { kind: 'user', user: found.user, via: 'session', sessionId: found.sessionId };
  } else if (claims?.typ === 'agent') {
    const found = await services.agentAuth.fromClaims(claims);
    if (found) return tokenIdentity(found);
  }
  return { refused: { reason: claims ? 'stale_token' : 'invalid_token' } };
}

/**
 * An agent credential's identity without a promise, when everything it needs is cached (an agent
 * in use, between writes): an agent request then passes its hook synchronously. `undefined` when
 * only `resolveCredential` can tell, refusals included (it records them).
 */
function knownAgentIdentity(services: Services, credential: string): (Identity & { kind: 'agent' }) | undefined {
  if (credential.startsWith('agent_')) {
    const check = services.agentKeys.checkKnown(credential);
    return check?.ok ? keyIdentity(services, check) : undefined;
  }
  const claims = services.signer.verifyKnown(credential);
  if (claims?.typ !== 'agent') return undefined;
  const found = services.agentAuth.fromClaimsKnown(claims);
  return found ? tokenIdentity(found) : undefined;
}

/** An accepted key's identity; its use is recorded. */
function keyIdentity(services: Services, check: KeyCheck & { ok: true }): Identity & { kind: 'agent' } {
  services.usage.keyUsed(check.key.id, check.agent.id);
  return {
    kind: 'agent',
    agent: check.agent,
    project: check.project,
    via: 'agent_key',
    keyId: check.key.id,
    keyScopes: check.key.scopes,
    claims: null,
    credential: check.key,
  };
}

function tokenIdentity(found: AuthenticatedAgent): Identity & { kind: 'agent' } {
  return {
    kind: 'agent',
    agent: found.agent,
    project: found.project,
    via: 'agent_token',
    keyId: null,
    keyScopes: [],
    claims: found.claims,
    credential: found.claims,
  };
}

/** Who the credential belongs to; a refusal is counted, audited and answered 401 (429 past the limits). */
async function identify(services: Services, ip: string, credential: string): Promise<Identity> {
  const found = await resolveCredential(services, credential);
  if ('refused' in found) throw await services.authFailures.fail({ actor: anonymousActor(ip), ...found.refused });
  return found;
}

/** An agent's request context: what its credential grants, and who it acts as. */
function agentContext(identity: Identity & { kind: 'agent' }, ip: string): AgentAuthContext {
  const { agent, project, claims } = identity;
  return {
    kind: 'agent',
    agent,
    project,
    via: identity.via,
    keyId: identity.keyId,
    claims,
    credential: identity.credential,
    scopes: claims?.scopes ?? grantedScopes(identity.keyScopes, agent),
    actor: { label: `agent:${agent.name}`, user: null, source: ip },
  };
}

/**
 * Authenticates the request and checks the route's access level; throws 401/403/404/429 problems.
 * A token bound to an audience is accepted only where that `audience` is asked for.
 */
export async function authenticate(
  services: Services,
  request: FastifyRequest,
  level: Exclude<RouteAuth, 'public'>,
  audience?: string,
): Promise<AuthContext | AgentAuthContext> {
  const credential = presentedCredential(request.headers);
  if (!credential) throw missing();
  return authorize(services, request, level, await identify(services, request.ip, credential), audience);
}

/**
 * `authenticate`'s answer without a promise, for an agent whose credential is cached and accepted
 * on a route agents may call; `undefined` when `authenticate` must tell (and refuse, or record).
 */
export function authenticatedAgent(
  services: Services,
  request: FastifyRequest,
  level: Exclude<RouteAuth, 'public'>,
): AgentAuthContext | undefined {
  if (level !== 'agent' && level !== 'any') return undefined;
  const credential = presentedCredential(request.headers);
  const identity = credential ? knownAgentIdentity(services, credential) : undefined;
  // A token bound to an audience is refused on the API (see `authorize`): `authenticate` says so.
  if (!identity || identity.claims?.aud !== undefined) return undefined;
  return agentContext(identity, request.ip);
}

/**
 * Whether the request's credential would be accepted for `level` if it were sent now: what an
 * open stream asks to know when to end (logout, a disabled user, a changed password, an expired
 * token, a lost membership). Records nothing, as no new request was made.
 */
export async function stillAccepted(
  services: Services,
  request: FastifyRequest,
  level: Exclude<RouteAuth, 'public'>,
): Promise<boolean> {
  const credential = presentedCredential(request.headers);
  if (!credential) return false;
  const found = await resolveCredential(services, credential);
  if ('refused' in found) return false;
  return authorize(services, request, level, found).then(
    () => true,
    () => false,
  );
}

/** The context of an accepted credential, if it may use a route of `level`; throws 403/404 problems. */
async function authorize(
  services: Services,
  request: FastifyRequest,
  level: Exclude<RouteAuth, 'public'>,
  identity: Identity,
  audience?: string,
): Promise<AuthContext | AgentAuthContext> {
  if (identity.kind === 'agent') {
    const bound = identity.claims?.aud;
    if (bound !== undefined && bound !== audience)
      throw new ProblemError('unauthorized', 'This token is good only at the broker (/proxy/…).');
    if (level !== 'agent' && level !== 'any')
      throw new ProblemError('forbidden', 'This route needs a signed-in human; agent credentials cannot call it.');
    return agentContext(identity, request.ip);
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
