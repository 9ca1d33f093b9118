import { BROKER_AUDIENCE } from './connections.js';
import { Type, type Static } from 'typebox';
import { StrictObject, Timestamp } from './common.js';
import { Agent } from './agents.js';
import { Project } from './projects.js';
import { HumanWhoami } from './system.js';
import { AgentUserWhoami } from './workflows.js';

/** `POST /v1/auth/token`: an agent exchanges its API key for tokens. */
export const AgentTokenRequest = StrictObject({
  agent_id: Type.String({ minLength: 1, maxLength: 64 }),
  secret: Type.String({ minLength: 1, maxLength: 256, description: 'The agent API key' }),
  audience: Type.Optional(
    Type.Literal(BROKER_AUDIENCE, {
      description: 'A token good only at the broker (/proxy/…), with no refresh token',
    }),
  ),
});
export type AgentTokenRequest = Static<typeof AgentTokenRequest>;

export const AgentRefreshRequest = StrictObject({ refresh_token: Type.String({ minLength: 1, maxLength: 256 }) });

/** `POST /v1/auth/revoke`: a refresh or access token; the whole session it belongs to ends. */
export const AgentRevokeRequest = StrictObject({ token: Type.String({ minLength: 1, maxLength: 4096 }) });
export const RevokeResult = Type.Object({ revoked: Type.Boolean() });

/** `POST /v1/agent-token`: a human's session exchanged for a token of one of the project's agents. */
export const AgentTokenExchangeRequest = StrictObject({
  agent: Type.String({ minLength: 1, maxLength: 128, description: "The agent's name or id" }),
  session_id: Type.Optional(
    Type.String({ maxLength: 128, description: 'Your own correlation id, recorded in the audit log' }),
  ),
});
export type AgentTokenExchangeRequest = Static<typeof AgentTokenExchangeRequest>;

/** An agent access token on its own (the exchange issues no refresh token). */
export const AgentAccessToken = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
});

export const ChallengeRequest = StrictObject({ agent_id: Type.String({ minLength: 1, maxLength: 64 }) });
export const Challenge = Type.Object({
  nonce: Type.String({ description: "Sign these exact bytes (UTF-8) with the agent's Ed25519 private key" }),
  expires_at: Timestamp,
});
export type Challenge = Static<typeof Challenge>;

export const VerifyRequest = StrictObject({
  agent_id: Type.String({ minLength: 1, maxLength: 64 }),
  nonce: Type.String({ minLength: 1, maxLength: 128 }),
  signature: Type.String({ minLength: 1, maxLength: 256, description: 'Ed25519 signature of the nonce, base64' }),
});
export type VerifyRequest = Static<typeof VerifyRequest>;

/** What an agent is and may do, as the daemon sees it on this request. */
export const AgentWhoami = Type.Object({
  principal: Type.Literal('agent'),
  via: Type.Union([Type.Literal('agent_key'), Type.Literal('agent_token'), Type.Literal('oauth_token')]),
  agent: Agent,
  project: Project,
  scopes: Type.Array(Type.String()),
  tools: Type.Array(Type.String()),
  approval_required_tools: Type.Array(Type.String()),
  permissions_version: Type.Integer(),
});
export type AgentWhoami = Static<typeof AgentWhoami>;

export const Whoami = Type.Union([HumanWhoami, AgentWhoami, AgentUserWhoami]);
export type Whoami = Static<typeof Whoami>;
