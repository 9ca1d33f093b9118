import { ProblemError } from '../../errors.js';
import type { Actor } from '../actor.js';
import type { Database } from '../../storage/database.js';
import type { AuditLog } from '../audit/audit-log.js';
import { attemptCounter, type AttemptCounter } from './attempt-counter.js';
import { retryAfterHeader } from './mfa.service.js';

/** Failed authentications allowed per minute from one address, and against one key prefix. */
const PER_SOURCE = 30;
const PER_PREFIX = 10;
/**
 * Past a limit, the connection a failure came on is not read for this long. A flood keeps its
 * connections waiting instead of sending more, and agents with valid credentials (never held)
 * keep the daemon. One second is the shortest wait a 429's Retry-After can name, so a client
 * that honours it loses nothing. A held connection's answers each come alone, as costly as a
 * request to an idle daemon (B8): 64 connections cost 64 of them a second, not 256 at 250 ms.
 * The connection waits, not the request: a request held that long outlives young-generation
 * collections and fills the old one (bench B9).
 */
export const LIMITED_ANSWER_DELAY_MS = 1000;

export interface AuthFailure {
  actor: Actor;
  /** Why, for the audit log: `unknown_key`, `expired`, `revoked`, `agent_suspended`, `bad_signature`… */
  reason: string;
  /** The presented key's prefix, when it had one (never the key). */
  prefix?: string | null;
  agentId?: string | null;
  projectId?: string | null;
}

/**
 * Counts failed authentications per source and per key prefix. Each failure is audited and
 * answered 401 until a limit is reached; past it the answer is 429 with Retry-After and only the
 * moment the limit engages is audited, so a flood costs no database writes; and as its connection
 * then waits (`LIMITED_ANSWER_DELAY_MS`), little time either.
 * Valid credentials are never refused by this limiter: every local agent shares 127.0.0.1, and
 * a stranger who knows a key's prefix must not be able to lock its agent out.
 */
export class AuthFailures {
  private readonly bySource: AttemptCounter;
  private readonly byPrefix: AttemptCounter;

  constructor(
    db: Database,
    private readonly audit: AuditLog,
  ) {
    this.bySource = attemptCounter(db, 'auth_source', PER_SOURCE, 60_000);
    this.byPrefix = attemptCounter(db, 'auth_prefix', PER_PREFIX, 60_000);
  }

  /** Records the failure and returns the problem to answer with. */
  async fail(failure: AuthFailure): Promise<ProblemError> {
    const source = failure.actor.source ?? 'unknown';
    const counts = [this.bySource.hit(source)];
    if (failure.prefix) counts.push(this.byPrefix.hit(failure.prefix));
    const waits = await Promise.all(counts);
    const wasLimited = Math.max(...waits.map((w) => w.before));
    const wait = Math.max(...waits.map((w) => w.after));

    if (wasLimited === 0) {
      await this.audit.record({
        event_type: 'auth.failed',
        actor: failure.actor,
        outcome: 'failure',
        agent_id: failure.agentId ?? null,
        project_id: failure.projectId ?? null,
        target: failure.prefix ? `key:${failure.prefix}` : null,
        // The failure that reaches a limit says so; the ones refused after it are not recorded one by one.
        metadata: { reason: failure.reason, ...(wait > 0 ? { rate_limited_for_seconds: wait } : {}) },
      });
    }
    if (wasLimited > 0) {
      return new ProblemError('rate_limited', 'Too many failed authentications; try again later.', {
        ...retryAfterHeader(wait),
        holdConnectionMs: LIMITED_ANSWER_DELAY_MS,
      });
    }
    return new ProblemError('unauthorized', 'The credentials are invalid, expired or revoked.');
  }
}
