import type { ReadManager } from '../../storage/database.js';
import { randomUUID } from 'node:crypto';
import type { EntityManager, EntitySchema } from 'typeorm';
import { parseCredential } from '@gatehouse/shared';
import type { RefreshTokenRow } from '../../storage/entities.js';
import { hashesMatch, issueCredential, sha256Hex } from '../credentials.js';

/*
 * Refresh tokens of human and agent sessions: opaque `ghr_…` credentials stored as a sha-256.
 * Each use rotates the token (the old row points to its successor), so a token that comes back
 * after rotation proves a copy exists and its session must end.
 */

/** How long a session lives without being refreshed. */
export const REFRESH_TTL_MS = 30 * 86_400_000;

type RefreshTokens = EntitySchema<RefreshTokenRow>;

/** Adds a new refresh token to `sessionId`; returns its plaintext (shown to the client only). */
export async function insertRefreshToken(
  tx: EntityManager,
  table: RefreshTokens,
  sessionId: string,
  createdAt: string,
  expiresAt: string,
): Promise<{ id: string; plaintext: string }> {
  const credential = issueCredential('refresh');
  const id = randomUUID();
  await tx.insert(table, {
    id,
    session_id: sessionId,
    prefix: credential.prefix,
    token_hash: credential.hash,
    created_at: createdAt,
    expires_at: expiresAt,
    revoked_at: null,
    replaced_by: null,
  });
  return { id, plaintext: credential.plaintext };
}

/** The stored row of a presented refresh token, or `null` when it is malformed or unknown. */
export async function findRefreshToken(
  manager: ReadManager,
  table: RefreshTokens,
  presented: string,
): Promise<RefreshTokenRow | null> {
  const parsed = parseCredential(presented);
  if (parsed?.kind !== 'refresh') return null;
  const row = await manager.findOneBy(table, { prefix: parsed.prefix });
  return row && hashesMatch(row.token_hash, sha256Hex(presented)) ? row : null;
}

/** Replaces `token` by a new one in the same session; returns the new plaintext and its expiry. */
export async function rotateRefreshToken(
  tx: EntityManager,
  table: RefreshTokens,
  token: RefreshTokenRow,
  now: string,
): Promise<{ plaintext: string; expiresAt: string }> {
  const expiresAt = new Date(Date.parse(now) + REFRESH_TTL_MS).toISOString();
  const next = await insertRefreshToken(tx, table, token.session_id, now, expiresAt);
  await tx.update(table, { id: token.id }, { revoked_at: now, replaced_by: next.id });
  return { plaintext: next.plaintext, expiresAt };
}

/** Ends every refresh token of a session that is being revoked. */
export async function revokeRefreshTokens(tx: EntityManager, table: RefreshTokens, sessionId: string, now: string) {
  await tx.update(table, { session_id: sessionId, revoked_at: null as unknown as undefined }, { revoked_at: now });
}

/** Why an unrotated refresh token is refused, or null: its session was ended, or it expired. */
export const refreshRefusal = (session: { revoked_at: string | null }, token: RefreshTokenRow, now: string) =>
  session.revoked_at ? 'session_revoked' : token.expires_at <= now ? 'expired' : null;
