import { createHash, randomBytes } from 'node:crypto';
import { ProblemError } from '../../errors.js';

/** How long an admin has between starting to connect an account and the provider's redirect. */
export const OAUTH_PENDING_MS = 10 * 60_000;
/** An access token this close to its expiry is refreshed before use. */
export const REFRESH_MARGIN_MS = 30_000;

export interface TokenAnswer {
  access_token: string;
  refresh_token?: string;
  expires_in?: number;
}

interface Pending {
  connectionId: string;
  verifier: string;
  redirectUri: string;
  expiresAt: number;
}

/** Authorization requests started and not yet answered, by `state` (held in memory: one use each). */
export class PendingAuthorizations {
  private readonly pending = new Map<string, Pending>();

  /** A new state and PKCE pair (S256) for `connectionId`. */
  start(connectionId: string, redirectUri: string): { state: string; challenge: string; expiresAt: number } {
    const now = Date.now();
    for (const [state, entry] of this.pending) if (entry.expiresAt <= now) this.pending.delete(state);
    const state = randomBytes(24).toString('base64url');
    const verifier = randomBytes(48).toString('base64url');
    const expiresAt = now + OAUTH_PENDING_MS;
    this.pending.set(state, { connectionId, verifier, redirectUri, expiresAt });
    return { state, challenge: createHash('sha256').update(verifier).digest('base64url'), expiresAt };
  }

  /** The request `state` belongs to, spent whatever happens next; null if unknown or expired. */
  take(state: string): Pending | null {
    const entry = this.pending.get(state);
    this.pending.delete(state);
    return entry && entry.expiresAt > Date.now() ? entry : null;
  }
}

/**
 * A token endpoint request (RFC 6749 §4.1.3, §6). The provider's own error text is not passed
 * on: it may echo what was sent.
 */
export async function requestTokens(tokenUrl: string, form: Record<string, string>): Promise<TokenAnswer> {
  let response: Response;
  try {
    response = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(30_000),
    });
  } catch {
    throw new ProblemError('upstream_unreachable', "The OAuth provider's token endpoint could not be reached.");
  }
  const body = (await response.json().catch(() => null)) as (TokenAnswer & { error?: string }) | null;
  if (!response.ok || !body || typeof body.access_token !== 'string') {
    const error = typeof body?.error === 'string' ? ` (${body.error.slice(0, 64)})` : '';
    throw new ProblemError(
      'upstream_unreachable',
      `The OAuth provider refused to issue a token${error}; connect the account again.`,
    );
  }
  return body;
}

/** RFC 7009 revocation; a provider that cannot be reached does not stop the local revoke. */
export async function revokeToken(revocationUrl: string, form: Record<string, string>): Promise<boolean> {
  try {
    const response = await fetch(revocationUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(30_000),
    });
    return response.ok;
  } catch {
    return false;
  }
}
