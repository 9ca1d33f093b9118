import type { MfaSetupResponse } from '@gatehouse/shared';
import { conflict, ProblemError } from '../../errors.js';
import { accounts, type SecretStore } from '../../secrets/secret-store.js';
import type { Database } from '../../storage/database.js';
import { countUserFailure, UserEntity, type UserRow } from '../../storage/entities.js';
import type { Actor } from '../actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import { attemptCounter, type AttemptCounter } from './attempt-counter.js';
import { acceptTotpCode, newTotpSecret, otpauthUri } from './totp.js';

/** SPEC §4: 5 tries a minute; 10 wrong codes in a row lock TOTP for 15 minutes. */
const TRIES_PER_MINUTE = 5;
const LOCK_AFTER_FAILURES = 10;
const LOCK_MS = 15 * 60_000;

export const retryAfterHeader = (seconds: number) => ({
  headers: { 'Retry-After': String(Math.max(1, Math.ceil(seconds))) },
});

/** TOTP enrolment and checking. The secret lives in the keychain (`totp:<user_id>`) only. */
export class MfaService {
  private readonly tries: AttemptCounter;

  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly secrets: SecretStore,
  ) {
    this.tries = attemptCounter(db, 'totp_tries', TRIES_PER_MINUTE, 60_000);
  }

  async setup(user: UserRow, actor: Actor): Promise<MfaSetupResponse> {
    if (user.mfa_enabled) throw conflict('MFA is already on; disable it first to enrol a new authenticator.');
    const secret = newTotpSecret();
    await this.secrets.set(accounts.totp(user.id), secret);
    await this.audit.record({ event_type: 'user.mfa_setup_started', actor, target: `user:${user.username}` });
    return { secret, otpauth_uri: otpauthUri(secret, user.username) };
  }

  async enable(user: UserRow, code: string, actor: Actor): Promise<void> {
    if (user.mfa_enabled) throw conflict('MFA is already on.');
    await this.checkCode(user, code, actor, async (tx) => {
      await tx.update(UserEntity, { id: user.id }, { mfa_enabled: true });
      await this.audit.append(tx, { event_type: 'user.mfa_enabled', actor, target: `user:${user.username}` });
    });
  }

  async disable(user: UserRow, code: string, actor: Actor): Promise<void> {
    if (!user.mfa_enabled) throw conflict('MFA is not on.');
    await this.checkCode(user, code, actor, async (tx) => {
      await tx.update(UserEntity, { id: user.id }, { mfa_enabled: false, totp_last_step: null });
      await this.audit.append(tx, { event_type: 'user.mfa_disabled', actor, target: `user:${user.username}` });
    });
    await this.secrets.delete(accounts.totp(user.id));
  }

  /**
   * Accepts `code` for `user` once, or throws (401 wrong/reused, 429 throttled or locked).
   * The replay check and the record of the accepted step happen in one serialised write,
   * so two requests racing with the same code cannot both pass. `onAccepted` runs in that write.
   */
  async checkCode(
    user: UserRow,
    code: string,
    actor: Actor,
    onAccepted?: Parameters<Database['write']>[0],
  ): Promise<void> {
    // Counted before the code is looked at, so that tries sent at once (to any replica) all count;
    // a refused try counts too, which keeps a client that does not pause refused.
    const wait = lockedFor(user.totp_locked_until) || (await this.tries.hit(user.id)).before;
    if (wait > 0)
      throw new ProblemError('rate_limited', 'Too many two-factor attempts; try again later.', retryAfterHeader(wait));

    const secret = await this.secrets.get(accounts.totp(user.id));
    if (!secret) {
      throw new ProblemError(
        'credentials_unrecoverable',
        'The two-factor secret is missing from the keychain; an admin must reset MFA.',
      );
    }
    const accepted = await this.db.write(async (tx) => {
      const fresh = await tx.findOneByOrFail(UserEntity, { id: user.id });
      const step = acceptTotpCode(secret, code, fresh.totp_last_step);
      if (step === null) {
        const locked = (await countUserFailure(tx, user.id, 'totp_failures')) >= LOCK_AFTER_FAILURES;
        if (locked)
          await tx.update(
            UserEntity,
            { id: user.id },
            { totp_failures: 0, totp_locked_until: new Date(Date.now() + LOCK_MS).toISOString() },
          );
        await this.audit.append(tx, {
          event_type: 'auth.failed',
          actor,
          outcome: 'failure',
          target: `user:${user.username}`,
          metadata: { reason: 'invalid_totp', locked },
        });
        return false;
      }
      await tx.update(UserEntity, { id: user.id }, { totp_last_step: step, totp_failures: 0, totp_locked_until: null });
      await onAccepted?.(tx);
      return true;
    });
    if (!accepted) throw new ProblemError('unauthorized', 'The two-factor code is wrong or was already used.');
  }
}

/** Seconds left on a stored lock, 0 when none. */
export function lockedFor(until: string | null, now = Date.now()): number {
  return until ? Math.max(0, (Date.parse(until) - now) / 1000) : 0;
}
