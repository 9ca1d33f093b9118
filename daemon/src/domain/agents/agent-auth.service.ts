import { randomBytes, randomUUID, verify as verifySignature } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { JWTPayload } from 'jose';
import { parseCredential, type Challenge, type TokenPair, type VerifyRequest } from '@gatehouse/shared';
import { ProblemError } from '../../errors.js';
import {
  AgentEntity,
  AgentRefreshTokenEntity,
  AgentSessionEntity,
  type AgentRow,
  type AgentSessionRow,
  type AgentSessionVia,
} from '../../storage/agent-entities.js';
import type { Database } from '../../storage/database.js';
import { CredentialOwners } from '../../storage/credential-owners.js';
import { ReadCache } from '../../storage/read-cache.js';
import type { ProjectRow, UserRow } from '../../storage/entities.js';
import type { Actor } from '../actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuthFailures } from '../auth/auth-failures.js';
import type { TokenSigner } from '../auth/token-signer.js';
import {
  findRefreshToken,
  insertRefreshToken,
  REFRESH_TTL_MS,
  refreshRefusal,
  revokeRefreshTokens,
  rotateRefreshToken,
} from '../auth/refresh-tokens.js';
import { grantedScopes, type AgentKeysService } from './agent-keys.service.js';
import type { PermissionsService } from './permissions.service.js';
import type { UsageRecorder } from '../auth/usage-recorder.js';

export const AGENT_TOKEN_TTL_SECONDS = 3600;
const NONCE_TTL_MS = 5 * 60_000;
const MAX_PENDING_NONCES = 10_000;
const MAX_LISTED_SESSIONS = 1000;

/** What an agent token says (SPEC §4): who, where, and what it may do at which permissions version. */
export interface AgentClaims {
  sub: string;
  typ: 'agent';
  /** The agent's project. */
  prj: string;
  /** The agent session; revoking it ends the token. */
  sid: string;
  scopes: string[];
  tools: string[];
  approval_tools: string[];
  /** The agent's permissions_version when the token was issued. */
  pv: number;
  /** Set on a token good only at one place (`BROKER_AUDIENCE`); absent on ordinary tokens. */
  aud?: string;
  /** A human who exchanged their session for this token (RFC 8693 actor). */
  act?: { sub: string };
}

export interface AuthenticatedAgent {
  agent: AgentRow;
  project: ProjectRow;
  claims: AgentClaims;
}

const invalid = () => new ProblemError('unauthorized', 'The token is invalid, expired or revoked.');

/** The agent behind claims, if it is active and its permissions are those the token was issued with. */
function holds(claims: JWTPayload, found: { agent: AgentRow; project: ProjectRow } | null): AuthenticatedAgent | null {
  if (!found || found.agent.status !== 'active' || claims.pv !== found.agent.permissions_version) return null;
  // Field by field: a spread of the cached, frozen pair (`{ ...found, claims }`) left garbage in
  // the old generation on every token request once refused requests ran beside them (bench B9:
  // RSS 105 → 171 MB in 24 s, against a flat 137 MB this way).
  return { agent: found.agent, project: found.project, claims: claims as unknown as AgentClaims };
}

/**
 * Agent tokens: issued for an API key, for a signed challenge, or in exchange for a human's
 * session; refreshed with rotation; checked on every request against the agent's status and
 * permissions_version, so a change to the agent refuses its older tokens on the very next request.
 */
export class AgentAuthService {
  private readonly nonces = new Map<string, { agentId: string; expiresAt: number }>();
  /** Sessions revoked while their access tokens may still be unexpired (tokens live one hour). */
  private readonly revokedSessions = new Set<string>();
  private readonly owners: CredentialOwners;
  /** Agent id → the agent and its project, while the database is unchanged. */
  private readonly byAgentId: ReadCache<{ agent: AgentRow; project: ProjectRow } | null>;

  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly signer: TokenSigner,
    private readonly keys: AgentKeysService,
    private readonly failures: AuthFailures,
    private readonly usage: UsageRecorder,
    private readonly permissions: PermissionsService,
  ) {
    this.owners = new CredentialOwners(db.source);
    this.byAgentId = new ReadCache(db);
  }

  /** Loads the sessions revoked within a token lifetime, so a restart forgets none of them. */
  async loadRevokedSessions(): Promise<void> {
    const since = new Date(Date.now() - AGENT_TOKEN_TTL_SECONDS * 1000).toISOString();
    const rows = await this.db.manager
      .createQueryBuilder(AgentSessionEntity, 's')
      .select('s.id', 'id')
      .where('s.revoked_at IS NOT NULL AND s.revoked_at > :since', { since })
      .getRawMany<{ id: string }>();
    for (const { id } of rows) this.revokedSessions.add(id);
  }

  /** `POST /v1/auth/token`: the agent's key, checked like any presented key, for tokens. */
  async tokenForKey(
    agentId: string,
    secret: string,
    actor: Actor,
    { audience, meta = null }: { audience?: string | undefined; meta?: Record<string, unknown> | null } = {},
  ): Promise<TokenPair> {
    const check = await this.keys.check(secret);
    if (!check.ok || check.agent.id !== agentId) {
      throw await this.failures.fail({
        actor,
        reason: check.ok ? 'key_of_another_agent' : check.reason,
        prefix: check.ok ? check.key.prefix : check.prefix,
        agentId: check.ok ? check.agent.id : check.agentId,
        projectId: check.ok ? check.agent.project_id : check.projectId,
      });
    }
    this.usage.keyUsed(check.key.id, check.agent.id);
    return this.openSession(check.agent, 'agent_key', actor, {
      scopes: grantedScopes(check.key.scopes, check.agent),
      // An audience-bound token gets no refresh token: its holder cannot renew it.
      ...(audience ? { audience, withRefresh: false } : {}),
      keyId: check.key.id,
      meta,
    });
  }

  /** An agent's sessions, newest first (the newest thousand: an agent signing in all day has many). */
  sessionsOf(agent: AgentRow): Promise<AgentSessionRow[]> {
    return this.db.manager.find(AgentSessionEntity, {
      where: { agent_id: agent.id },
      order: { created_at: 'DESC' },
      take: MAX_LISTED_SESSIONS,
    });
  }

  challenge(agentId: string): Challenge {
    const now = Date.now();
    for (const [nonce, pending] of this.nonces) if (pending.expiresAt <= now) this.nonces.delete(nonce);
    if (this.nonces.size >= MAX_PENDING_NONCES)
      throw new ProblemError('rate_limited', 'Too many pending challenges; try again shortly.', {
        headers: { 'Retry-After': '60' },
      });
    const nonce = randomBytes(32).toString('base64url');
    const expiresAt = now + NONCE_TTL_MS;
    this.nonces.set(nonce, { agentId, expiresAt });
    return { nonce, expires_at: new Date(expiresAt).toISOString() };
  }

  /** `POST /v1/auth/verify`: an Ed25519 signature over a live nonce, which is spent whatever the outcome. */
  async verify(request: VerifyRequest, actor: Actor): Promise<TokenPair> {
    const pending = this.nonces.get(request.nonce);
    this.nonces.delete(request.nonce);
    const agent = await this.db.manager.findOneBy(AgentEntity, { id: request.agent_id });
    let reason: string | null = null;
    if (!pending || pending.expiresAt <= Date.now() || pending.agentId !== request.agent_id)
      reason = 'unknown_or_used_nonce';
    else if (!agent) reason = 'unknown_agent';
    else if (agent.status !== 'active') reason = `agent_${agent.status}`;
    else if (!signatureValid(agent.public_key, request.nonce, request.signature)) reason = 'bad_signature';
    if (reason || !agent)
      throw await this.failures.fail({
        actor,
        reason: reason ?? 'unknown_agent',
        agentId: agent?.id ?? null,
        projectId: agent?.project_id ?? null,
      });
    return this.openSession(agent, 'challenge', actor, { scopes: agent.scopes });
  }

  /** `POST /v1/agent-token`: tools are bounded by the human's ceiling (a super_admin has none). */
  async exchange(
    agent: AgentRow,
    user: UserRow,
    note: string | undefined,
    actor: Actor,
  ): Promise<{ access_token: string; token_type: 'Bearer'; expires_in: number }> {
    if (agent.status !== 'active')
      throw new ProblemError('conflict', `Agent "${agent.name}" is ${agent.status}; only an active agent can act.`);
    const ceiling = user.role === 'super_admin' || user.tool_ceiling === '*' ? null : new Set(user.tool_ceiling);
    const tools = (await this.permissions.effectiveTools(agent)).filter(
      (tool) => ceiling === null || ceiling.has(tool),
    );
    const { access_token } = await this.openSession(agent, 'user_exchange', actor, {
      scopes: agent.scopes,
      tools,
      user,
      note,
      withRefresh: false,
    });
    return { access_token, token_type: 'Bearer', expires_in: AGENT_TOKEN_TTL_SECONDS };
  }

  async refresh(refreshToken: string, actor: Actor): Promise<TokenPair> {
    const outcome = await this.db.write(async (tx) => {
      const token = await findRefreshToken(tx, AgentRefreshTokenEntity, refreshToken);
      if (!token) return { failure: { actor, reason: 'unknown_refresh_token' } };
      const session = await tx.findOneByOrFail(AgentSessionEntity, { id: token.session_id });
      const agent = await tx.findOneByOrFail(AgentEntity, { id: session.agent_id });
      const now = new Date().toISOString();
      if (token.revoked_at) {
        // A rotated-out token came back: someone holds a copy. End the session.
        await this.revokeSession(tx, session, 'refresh token reuse', now);
        await this.audit.append(tx, {
          event_type: 'auth.refresh_reused',
          actor,
          outcome: 'failure',
          agent_id: agent.id,
          project_id: agent.project_id,
          target: `agent_session:${session.id}`,
        });
        return { error: invalid() };
      }
      const refused =
        refreshRefusal(session, token, now) ?? (agent.status !== 'active' ? `agent_${agent.status}` : null);
      if (refused) return { failure: { actor, reason: refused, agentId: agent.id, projectId: agent.project_id } };

      const next = await rotateRefreshToken(tx, AgentRefreshTokenEntity, token, now);
      await tx.update(AgentSessionEntity, { id: session.id }, { expires_at: next.expiresAt });
      await this.audit.append(tx, {
        event_type: 'auth.token_refreshed',
        actor,
        agent_id: agent.id,
        project_id: agent.project_id,
        target: `agent_session:${session.id}`,
      });
      // The session keeps what its authentication granted (a key's narrower scopes), within the agent's current ones.
      const scopes = grantedScopes(session.scopes ?? [], agent);
      const access = await this.accessToken(tx, agent, session.id, { scopes });
      return {
        agentId: agent.id,
        pair: {
          access_token: access,
          refresh_token: next.plaintext,
          token_type: 'Bearer' as const,
          expires_in: AGENT_TOKEN_TTL_SECONDS,
        },
      };
    });
    // Audited and limited per source like every failed authentication (a reuse is audited above).
    if (outcome.failure) throw await this.failures.fail(outcome.failure);
    if ('error' in outcome) throw outcome.error;
    this.usage.agentAuthenticated(outcome.agentId);
    return outcome.pair;
  }

  /** Ends the session a refresh or access token belongs to. Unknown tokens are not an error (RFC 7009). */
  async revoke(token: string, actor: Actor): Promise<{ revoked: boolean }> {
    let sessionId: string | null = null;
    if (parseCredential(token)?.kind === 'refresh') {
      sessionId = (await findRefreshToken(this.db.manager, AgentRefreshTokenEntity, token))?.session_id ?? null;
    } else {
      const claims = await this.signer.verify(token);
      if (claims?.typ === 'agent' && typeof claims.sid === 'string') sessionId = claims.sid;
    }
    if (!sessionId) return { revoked: false };
    return this.db.write(async (tx) => {
      const session = await tx.findOneBy(AgentSessionEntity, { id: sessionId });
      if (!session || session.revoked_at) return { revoked: false };
      await this.revokeSession(tx, session, 'revoked', new Date().toISOString());
      const agent = await tx.findOneBy(AgentEntity, { id: session.agent_id });
      await this.audit.append(tx, {
        event_type: 'auth.token_revoked',
        actor,
        agent_id: session.agent_id,
        project_id: agent?.project_id ?? null,
        target: `agent_session:${session.id}`,
      });
      return { revoked: true };
    });
  }

  /**
   * The agent behind verified agent-token claims, or `null` if the token no longer holds: its
   * session was revoked, the agent is not active, or its permissions changed since it was issued.
   */
  async fromClaims(claims: JWTPayload): Promise<AuthenticatedAgent | null> {
    if (!this.mayHold(claims)) return null;
    const found = await this.byAgentId.get(claims.sub as string, () =>
      this.owners.agentWithProject(this.db.manager, claims.sub as string),
    );
    return holds(claims, found);
  }

  /** `fromClaims`'s answer without a promise, when the agent is cached; `undefined` when only it can tell. */
  fromClaimsKnown(claims: JWTPayload): AuthenticatedAgent | null | undefined {
    if (!this.mayHold(claims)) return null;
    const known = this.byAgentId.known(claims.sub as string);
    return known && holds(claims, known.value);
  }

  /** Whether claims name an agent session that is not revoked (what needs no lookup). */
  private mayHold(claims: JWTPayload): boolean {
    return (
      claims.typ === 'agent' &&
      typeof claims.sub === 'string' &&
      typeof claims.sid === 'string' &&
      !this.revokedSessions.has(claims.sid)
    );
  }

  /** The agent and its project, kept while the database is unchanged; null if there is no such agent. */
  agentById(agentId: string): Promise<{ agent: AgentRow; project: ProjectRow } | null> {
    return this.byAgentId.get(agentId, () => this.owners.agentWithProject(this.db.manager, agentId));
  }

  private async openSession(
    agent: AgentRow,
    via: AgentSessionVia,
    actor: Actor,
    grant: {
      scopes: string[];
      tools?: string[];
      user?: UserRow;
      note?: string | undefined;
      withRefresh?: boolean;
      audience?: string;
      keyId?: string;
      meta?: Record<string, unknown> | null;
    },
  ): Promise<TokenPair> {
    const withRefresh = grant.withRefresh ?? true;
    const pair = await this.db.write(async (tx) => {
      const now = new Date();
      const expiresAt = new Date(
        now.getTime() + (withRefresh ? REFRESH_TTL_MS : AGENT_TOKEN_TTL_SECONDS * 1000),
      ).toISOString();
      const session: AgentSessionRow = {
        id: randomUUID(),
        agent_id: agent.id,
        via,
        user_id: grant.user?.id ?? null,
        created_at: now.toISOString(),
        expires_at: expiresAt,
        revoked_at: null,
        revoked_reason: null,
        scopes: grant.scopes,
        key_id: grant.keyId ?? null,
        meta: grant.meta ? JSON.stringify(grant.meta) : null,
      };
      await tx.insert(AgentSessionEntity, session);
      const refresh = withRefresh
        ? (await insertRefreshToken(tx, AgentRefreshTokenEntity, session.id, session.created_at, expiresAt)).plaintext
        : '';
      await this.audit.append(tx, {
        event_type: 'auth.token_issued',
        actor,
        agent_id: agent.id,
        project_id: agent.project_id,
        target: `agent:${agent.name}`,
        metadata: { via, agent_session: session.id, ...(grant.note ? { session_note: grant.note } : {}) },
      });
      const access = await this.accessToken(tx, agent, session.id, grant);
      return {
        access_token: access,
        refresh_token: refresh,
        token_type: 'Bearer' as const,
        expires_in: AGENT_TOKEN_TTL_SECONDS,
      };
    });
    this.usage.agentAuthenticated(agent.id);
    return pair;
  }

  private async accessToken(
    tx: EntityManager,
    agent: AgentRow,
    sessionId: string,
    grant: { scopes: string[]; tools?: string[]; user?: UserRow; audience?: string },
  ): Promise<string> {
    const claims: AgentClaims = {
      sub: agent.id,
      typ: 'agent',
      prj: agent.project_id,
      sid: sessionId,
      scopes: grant.scopes,
      tools: grant.tools ?? (await this.permissions.effectiveTools(agent, tx)),
      approval_tools: agent.approval_required_tools,
      pv: agent.permissions_version,
      ...(grant.user ? { act: { sub: grant.user.id } } : {}),
      ...(grant.audience ? { aud: grant.audience } : {}),
    };
    return this.signer.sign({ ...claims }, AGENT_TOKEN_TTL_SECONDS);
  }

  private async revokeSession(tx: EntityManager, session: AgentSessionRow, reason: string, now: string): Promise<void> {
    await tx.update(AgentSessionEntity, { id: session.id }, { revoked_at: now, revoked_reason: reason });
    await revokeRefreshTokens(tx, AgentRefreshTokenEntity, session.id, now);
    this.revokedSessions.add(session.id);
  }
}

function signatureValid(publicKeyPem: string, nonce: string, signature: string): boolean {
  try {
    return verifySignature(null, Buffer.from(nonce, 'utf8'), publicKeyPem, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
