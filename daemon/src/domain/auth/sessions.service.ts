import { randomUUID } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { EntityManager } from 'typeorm';
import type { LoginRequest, TokenPair } from '@gatehouse/shared';
import { ProblemError } from '../../errors.js';
import type { Database } from '../../storage/database.js';
import { frozenRow, ReadCache } from '../../storage/read-cache.js';
import {
  countUserFailure,
  RefreshTokenEntity,
  SessionEntity,
  UserEntity,
  type SessionRow,
  type UserRow,
} from '../../storage/entities.js';
import { anonymousActor, userActor, type Actor } from '../actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuthFailures } from './auth-failures.js';
import { attemptCounter, type AttemptCounter } from './attempt-counter.js';
import { lockedFor, retryAfterHeader, type MfaService } from './mfa.service.js';
import { hashPassword, verifyDecoyPassword, verifyPassword } from './passwords.js';
import {
  findRefreshToken,
  insertRefreshToken,
  REFRESH_TTL_MS,
  refreshRefusal,
  revokeRefreshTokens,
  rotateRefreshToken,
} from './refresh-tokens.js';
import type { TokenSigner } from './token-signer.js';

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
/** Consecutive wrong passwords before an account is locked, and for how long. */
const LOCK_AFTER_FAILURES = 5;
const LOCK_MS = 15 * 60_000;
/** Failed logins allowed from one address per 15 minutes, whatever the usernames. */
const SOURCE_FAILURES = 20;

export interface ClientInfo {
  source: string | null;
  userAgent: string | null;
}

const invalidCredentials = () => new ProblemError('unauthorized', 'Invalid username or password.');
const invalidRefresh = () =>
  new ProblemError('unauthorized', 'The refresh token is invalid, expired or revoked; sign in again.');

/** Human sessions: login, refresh-token rotation with reuse detection, logout, access-token checks. */
export class SessionsService {
  private readonly failuresBySource: AttemptCounter;
  /** An open session's user by session id, while the database is unchanged (every console request asks). */
  private readonly openSessions: ReadCache<{ user: UserRow; sessionId: string } | null>;

  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly signer: TokenSigner,
    private readonly mfa: MfaService,
    private readonly failures: AuthFailures,
  ) {
    this.openSessions = new ReadCache(db);
    this.failuresBySource = attemptCounter(db, 'login_source', SOURCE_FAILURES, LOCK_MS);
  }

  async login(input: LoginRequest, client: ClientInfo): Promise<TokenPair> {
    // 1. throttle the source before spending a password hash on it
    const sourceKey = client.source ?? 'unknown';
    const sourceWait = await this.failuresBySource.retryAfter(sourceKey);
    if (sourceWait > 0)
      throw new ProblemError(
        'rate_limited',
        'Too many failed sign-ins from this address.',
        retryAfterHeader(sourceWait),
      );

    // 2. find the account; an unknown name costs as much time as a wrong password
    const name = input.username.trim();
    const user = await this.db.manager
      .createQueryBuilder(UserEntity, 'u')
      .where(`u.kind = 'human' AND (u.username = :name OR ${this.db.dialect.equalsIgnoringCase('u.email', 'name')})`, {
        name,
      })
      .getOne();
    const actor = user ? userActor(user, client.source) : anonymousActor(client.source);
    if (!user?.password_hash) {
      await verifyDecoyPassword(input.password);
      return this.failLogin(actor, null, 'unknown_user', sourceKey);
    }

    // 3. a locked account is refused without looking at the password
    const lockWait = lockedFor(user.locked_until);
    if (lockWait > 0) {
      await this.audit.record({
        event_type: 'auth.failed',
        actor,
        outcome: 'failure',
        target: `user:${user.username}`,
        metadata: { reason: 'locked' },
      });
      throw new ProblemError(
        'rate_limited',
        'Too many failed sign-ins; the account is locked for a while.',
        retryAfterHeader(lockWait),
      );
    }

    // 4. password, then the account's state, then the second factor
    if (!(await verifyPassword(input.password, user.password_hash)))
      return this.failLogin(actor, user, 'wrong_password', sourceKey);
    if (user.disabled) return this.failLogin(actor, user, 'disabled', sourceKey);
    if (user.mfa_enabled) {
      if (!input.totp_code)
        throw new ProblemError('mfa_required', 'This account has two-factor authentication on: send totp_code.');
      await this.mfa.checkCode(user, input.totp_code, actor);
    }

    // 5. open the session
    return this.db.write(async (tx) => {
      await this.failuresBySource.reset(sourceKey, tx);
      await tx.update(UserEntity, { id: user.id }, { failed_logins: 0, locked_until: null });
      const pair = await this.openSession(tx, user, client);
      await this.audit.append(tx, {
        event_type: 'auth.login',
        actor,
        target: `user:${user.username}`,
        metadata: { mfa: user.mfa_enabled },
      });
      return pair;
    });
  }

  async refresh(refreshToken: string, client: ClientInfo): Promise<TokenPair> {
    const outcome = await this.db.write(async (tx) => {
      const token = await findRefreshToken(tx, RefreshTokenEntity, refreshToken);
      if (!token) return { failure: { actor: anonymousActor(client.source), reason: 'unknown_refresh_token' } };
      const session = await tx.findOneByOrFail(SessionEntity, { id: token.session_id });
      const user = await tx.findOneByOrFail(UserEntity, { id: session.user_id });
      const actor = userActor(user, client.source);
      const now = new Date().toISOString();

      if (token.revoked_at) {
        // A rotated-out token came back: someone holds a copy. End the whole chain.
        if (!session.revoked_at) await this.revokeSession(tx, session, 'refresh token reuse', now);
        await this.audit.append(tx, {
          event_type: 'auth.refresh_reused',
          actor,
          outcome: 'failure',
          target: `session:${session.id}`,
          metadata: { reason: 'a rotated refresh token was presented again; the session was revoked' },
        });
        return { error: invalidRefresh() };
      }
      const refused = refreshRefusal(session, token, now) ?? (user.disabled ? 'user_disabled' : null);
      if (refused) return { failure: { actor, reason: refused } };

      const next = await rotateRefreshToken(tx, RefreshTokenEntity, token, now);
      await tx.update(SessionEntity, { id: session.id }, { expires_at: next.expiresAt });
      await this.audit.append(tx, { event_type: 'auth.token_refreshed', actor, target: `session:${session.id}` });
      return { pair: await this.tokenPair(user, session.id, next.plaintext) };
    });
    // Audited and limited per source like every failed authentication (a reuse is audited above).
    if (outcome.failure) throw await this.failures.fail(outcome.failure);
    if ('error' in outcome) throw outcome.error;
    return outcome.pair;
  }

  async logout(sessionId: string, actor: Actor): Promise<void> {
    await this.db.write(async (tx) => {
      const session = await tx.findOneBy(SessionEntity, { id: sessionId });
      if (!session || session.revoked_at) return;
      await this.revokeSession(tx, session, 'logout', new Date().toISOString());
      await this.audit.append(tx, { event_type: 'auth.logout', actor, target: `session:${sessionId}` });
    });
  }

  /** Ends the session a refresh token belongs to: the browser console's sign-out holds only its cookie. */
  async logoutByRefreshToken(refreshToken: string, source: string | null): Promise<void> {
    const token = await findRefreshToken(this.db.manager, RefreshTokenEntity, refreshToken);
    const session = token && (await this.db.manager.findOneBy(SessionEntity, { id: token.session_id }));
    const user = session && (await this.db.manager.findOneBy(UserEntity, { id: session.user_id }));
    if (session && user) await this.logout(session.id, userActor(user, source));
  }

  /** The user behind a valid access token whose session is still open, or `null`. */
  async authenticate(accessToken: string): Promise<{ user: UserRow; sessionId: string } | null> {
    const claims = await this.signer.verify(accessToken);
    return claims ? this.fromClaims(claims) : null;
  }

  /** The user behind already-verified access-token claims, if the session is still open. */
  async fromClaims(claims: JWTPayload): Promise<{ user: UserRow; sessionId: string } | null> {
    if (claims.typ !== 'user' || typeof claims.sub !== 'string' || typeof claims.sid !== 'string') return null;
    const found = await this.openSessions.get(claims.sid, () => this.userOfOpenSession(claims.sid as string));
    return found?.user.id === claims.sub ? found : null;
  }

  /** The session's user if the session is open and the user enabled, the row frozen as it is cached. */
  private async userOfOpenSession(sessionId: string): Promise<{ user: UserRow; sessionId: string } | null> {
    const session = await this.db.manager.findOneBy(SessionEntity, { id: sessionId });
    if (!session || session.revoked_at) return null;
    const user = await this.db.manager.findOneBy(UserEntity, { id: session.user_id });
    return user && !user.disabled ? { user: frozenRow(user), sessionId } : null;
  }

  /** Changes the password and ends every other session of the user. */
  async changePassword(
    user: UserRow,
    currentSessionId: string | null,
    current: string,
    next: string,
    actor: Actor,
  ): Promise<void> {
    if (!user.password_hash || !(await verifyPassword(current, user.password_hash))) {
      await this.audit.record({
        event_type: 'auth.failed',
        actor,
        outcome: 'failure',
        target: `user:${user.username}`,
        metadata: { reason: 'wrong_current_password' },
      });
      throw new ProblemError('forbidden', 'The current password is wrong.');
    }
    const hash = await hashPassword(next);
    await this.db.write(async (tx) => {
      await tx.update(UserEntity, { id: user.id }, { password_hash: hash, updated_at: new Date().toISOString() });
      const now = new Date().toISOString();
      const sessions = await tx.findBy(SessionEntity, { user_id: user.id, revoked_at: null as unknown as undefined });
      for (const session of sessions) {
        if (session.id !== currentSessionId) await this.revokeSession(tx, session, 'password changed', now);
      }
      await this.audit.append(tx, { event_type: 'user.password_changed', actor, target: `user:${user.username}` });
    });
  }

  private async failLogin(actor: Actor, user: UserRow | null, reason: string, sourceKey: string): Promise<never> {
    await this.failuresBySource.hit(sourceKey);
    await this.db.write(async (tx) => {
      let locked = false;
      if (user) {
        locked = (await countUserFailure(tx, user.id, 'failed_logins')) >= LOCK_AFTER_FAILURES;
        if (locked)
          await tx.update(
            UserEntity,
            { id: user.id },
            { failed_logins: 0, locked_until: new Date(Date.now() + LOCK_MS).toISOString() },
          );
      }
      await this.audit.append(tx, {
        event_type: 'auth.failed',
        actor,
        outcome: 'failure',
        target: user ? `user:${user.username}` : null,
        metadata: { reason, locked },
      });
    });
    throw invalidCredentials();
  }

  private async openSession(tx: EntityManager, user: UserRow, client: ClientInfo): Promise<TokenPair> {
    const now = new Date();
    const expiresAt = new Date(now.getTime() + REFRESH_TTL_MS).toISOString();
    const session: SessionRow = {
      id: randomUUID(),
      user_id: user.id,
      created_at: now.toISOString(),
      expires_at: expiresAt,
      revoked_at: null,
      revoked_reason: null,
      source: client.source,
      user_agent: client.userAgent?.slice(0, 256) ?? null,
    };
    await tx.insert(SessionEntity, session);
    const refresh = await insertRefreshToken(tx, RefreshTokenEntity, session.id, session.created_at, expiresAt);
    return this.tokenPair(user, session.id, refresh.plaintext);
  }

  private async tokenPair(user: UserRow, sessionId: string, refreshToken: string): Promise<TokenPair> {
    const accessToken = await this.signer.sign({ sub: user.id, sid: sessionId, typ: 'user' }, ACCESS_TOKEN_TTL_SECONDS);
    return {
      access_token: accessToken,
      refresh_token: refreshToken,
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_TTL_SECONDS,
    };
  }

  private async revokeSession(tx: EntityManager, session: SessionRow, reason: string, now: string): Promise<void> {
    await tx.update(SessionEntity, { id: session.id }, { revoked_at: now, revoked_reason: reason });
    await revokeRefreshTokens(tx, RefreshTokenEntity, session.id, now);
  }
}
