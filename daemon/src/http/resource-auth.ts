import type { FastifyReply, FastifyRequest } from 'fastify';
import { anonymousActor } from '../domain/actor.js';
import type { ResourceRefusal } from '../domain/oauth/authorization-server.js';
import { MCP_PATH, TOOLS_SCOPE } from '../domain/oauth/authorization-server.js';
import type { AgentAuthContext } from './authenticate.js';
import { authenticate, authenticatedAgent, presentedCredential } from './authenticate.js';
import { sendProblem } from './problems.js';
import type { Services } from './services.js';

/** Where the gateway's Protected Resource Metadata is (RFC 9728 §3.1, path inserted after the well-known segment). */
export const PROTECTED_RESOURCE_METADATA_PATH = `/.well-known/oauth-protected-resource${MCP_PATH}`;

/**
 * The `WWW-Authenticate` challenge of the gateway (RFC 6750 §3, RFC 9728 §5.1): it names the
 * Protected Resource Metadata, from which a client discovers the authorization server, and the
 * scope to ask for; with an error when a token was presented and refused.
 */
export function bearerChallenge(resourceMetadataUrl: string, refusal?: ResourceRefusal): string {
  const parameters = [`resource_metadata="${resourceMetadataUrl}"`, `scope="${TOOLS_SCOPE}"`];
  if (refusal)
    parameters.push(`error="${refusal.error}"`, `error_description="${refusal.description.replaceAll('"', "'")}"`);
  return `Bearer ${parameters.join(', ')}`;
}

/**
 * Authenticates a request to the gateway by its OAuth access token. On success the request acts
 * as the agent the admin chose at consent, exactly as with that agent's own credentials (its
 * grants, approvals and suspension apply). Otherwise it answers, per RFC 6750 §3.1, 401 (no
 * token, or a token that is unknown, expired, revoked, for another audience or of an agent no
 * longer active) or 403 `insufficient_scope`, with the challenge in `WWW-Authenticate` and a
 * problem as the body, and returns null.
 */
export async function requireResourceToken(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<AgentAuthContext | null> {
  const challengeFor = (refusal?: ResourceRefusal) =>
    bearerChallenge(`${services.oauth.baseUrlOf()}${PROTECTED_RESOURCE_METADATA_PATH}`, refusal);
  const token = presentedCredential(request.headers);
  if (!token || !/^Bearer\s/i.test(request.headers.authorization ?? '')) {
    await sendProblem(reply, 'unauthorized', 'Sign in first: send Authorization: Bearer <OAuth access token>.', {
      headers: { 'www-authenticate': challengeFor() },
    });
    return null;
  }
  const access = await services.oauth.verifyAccessToken(token);
  if ('error' in access) {
    const headers = { 'www-authenticate': challengeFor(access) };
    if (access.error === 'insufficient_scope') {
      await sendProblem(reply, 'forbidden', access.description, { headers });
      return null;
    }
    // Counted and audited as every failed authentication is: past a limit, 429 with Retry-After.
    const { reason, agentId, projectId } = access;
    const failed = await services.authFailures.fail({ actor: anonymousActor(request.ip), reason, agentId, projectId });
    if (failed.code === 'rate_limited') {
      await sendProblem(reply, 'rate_limited', failed.detail, {
        ...failed.extras,
        headers: { ...failed.extras.headers, ...headers },
      });
    } else await sendProblem(reply, 'unauthorized', access.description, { headers });
    return null;
  }
  const { agent, project } = access;
  return {
    kind: 'agent',
    agent,
    project,
    via: 'oauth_token',
    keyId: null,
    claims: null,
    credential: access,
    // An OAuth token carries the agent's whole grant: scopes narrow nothing further here.
    scopes: agent.scopes,
    actor: { label: `agent:${agent.name}`, user: null, source: request.ip },
  };
}

/**
 * The gateway's authentication, for `/mcp`: an agent's own API key or agent token is accepted as
 * on every agent route (`authenticate`, with its refusals and limits); anything else is taken for
 * an OAuth access token (`requireResourceToken`), and no credential at all is answered with the
 * challenge that starts a client's OAuth discovery. Null when the reply has been sent.
 */
export async function authenticateGateway(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<AgentAuthContext | null> {
  const credential = presentedCredential(request.headers);
  // Agent keys carry their prefix and agent tokens are JWTs; the server's access tokens are neither.
  if (credential && (credential.startsWith('agent_') || credential.split('.').length === 3)) {
    return (
      authenticatedAgent(services, request, 'agent') ??
      ((await authenticate(services, request, 'agent')) as AgentAuthContext)
    );
  }
  return requireResourceToken(services, request, reply);
}
