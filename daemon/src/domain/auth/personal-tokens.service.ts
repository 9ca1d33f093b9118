import { randomUUID } from 'node:crypto';
import {
  parseCredential,
  type CreatedPersonalToken,
  type CreatePersonalTokenRequest,
  type PersonalToken,
} from '@gatehouse/shared';
import { forbidden, notFound } from '../../errors.js';
import type { Database } from '../../storage/database.js';
import { frozenRow, ReadCache } from '../../storage/read-cache.js';
import { PersonalTokenEntity, UserEntity, type PersonalTokenRow, type UserRow } from '../../storage/entities.js';
import type { Actor } from '../actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import { hashesMatch, issueCredential, sha256Hex } from '../credentials.js';
import { isUserAdmin } from '../users/users.service.js';
import type { UsageRecorder } from './usage-recorder.js';

const toPersonalToken = (row: PersonalTokenRow): PersonalToken => ({
  id: row.id,
  label: row.label,
  prefix: row.prefix,
  last_four: row.last_four,
  created_at: row.created_at,
  expires_at: row.expires_at,
  last_used_at: row.last_used_at,
  revoked_at: row.revoked_at,
});

/** Personal API tokens (`ghp_…`) for a human's scripts: stored as sha-256, shown once. */
export class PersonalTokensService {
  /** A token's row and its user by prefix, while the database is unchanged (every script request asks). */
  private readonly byPrefix: ReadCache<{ token: PersonalTokenRow; user: UserRow | null } | null>;

  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly usage: UsageRecorder,
  ) {
    this.byPrefix = new ReadCache(db);
  }

  async list(ownerId: string, caller: UserRow): Promise<PersonalToken[]> {
    await this.owner(ownerId, caller);
    const rows = await this.db.manager.find(PersonalTokenEntity, {
      where: { user_id: ownerId },
      order: { created_at: 'DESC' },
    });
    return rows.map(toPersonalToken);
  }

  async create(
    ownerId: string,
    input: CreatePersonalTokenRequest,
    actor: Actor & { user: UserRow },
  ): Promise<CreatedPersonalToken> {
    const owner = await this.owner(ownerId, actor.user);
    if (owner.kind !== 'human') throw forbidden('Personal tokens are for human users.');
    const credential = issueCredential('personal');
    const days = input.expires_in_days ?? 90;
    const now = new Date();
    const row: PersonalTokenRow = {
      id: randomUUID(),
      user_id: owner.id,
      label: input.label?.trim() || null,
      prefix: credential.prefix,
      token_hash: credential.hash,
      last_four: credential.lastFour,
      created_at: now.toISOString(),
      expires_at: days === 0 ? null : new Date(now.getTime() + days * 86_400_000).toISOString(),
      last_used_at: null,
      revoked_at: null,
    };
    await this.db.write(async (tx) => {
      await tx.insert(PersonalTokenEntity, row);
      await this.audit.append(tx, {
        event_type: 'user.token_created',
        actor,
        target: `user:${owner.username}`,
        metadata: { token_id: row.id, prefix: row.prefix },
      });
    });
    return { ...toPersonalToken(row), token: credential.plaintext };
  }

  async revoke(ownerId: string, tokenId: string, actor: Actor & { user: UserRow }): Promise<void> {
    const owner = await this.owner(ownerId, actor.user);
    await this.db.write(async (tx) => {
      const token = await tx.findOneBy(PersonalTokenEntity, { id: tokenId, user_id: owner.id });
      if (!token) throw notFound('Token');
      if (token.revoked_at) return;
      await tx.update(PersonalTokenEntity, { id: tokenId }, { revoked_at: new Date().toISOString() });
      await this.audit.append(tx, {
        event_type: 'user.token_revoked',
        actor,
        target: `user:${owner.username}`,
        metadata: { token_id: tokenId, prefix: token.prefix },
      });
    });
  }

  /** The enabled user behind a valid, unexpired, unrevoked token, or `null`. */
  async authenticate(plaintext: string): Promise<{ user: UserRow; tokenId: string } | null> {
    const parsed = parseCredential(plaintext);
    if (parsed?.kind !== 'personal') return null;
    const found = await this.byPrefix.get(parsed.prefix, () => this.tokenWithUser(parsed.prefix));
    if (!found || !hashesMatch(found.token.token_hash, sha256Hex(plaintext))) return null;
    const { token, user } = found;
    if (token.revoked_at || (token.expires_at && token.expires_at <= new Date().toISOString())) return null;
    if (!user || user.disabled) return null;
    // Written with the next batch of uses: a busy script causes no write per request.
    this.usage.personalTokenUsed(token.id);
    return { user, tokenId: token.id };
  }

  /** The token with this prefix and its owner, the rows frozen as they are cached. */
  private async tokenWithUser(prefix: string): Promise<{ token: PersonalTokenRow; user: UserRow | null } | null> {
    const token = await this.db.manager.findOneBy(PersonalTokenEntity, { prefix });
    if (!token) return null;
    const user = await this.db.manager.findOneBy(UserEntity, { id: token.user_id });
    return { token: frozenRow(token), user: user && frozenRow(user) };
  }

  /** Users manage their own tokens; user admins manage others' (a super_admin's only if super_admin). */
  private async owner(ownerId: string, caller: UserRow): Promise<UserRow> {
    const owner = await this.db.manager.findOneBy(UserEntity, { id: ownerId });
    if (!owner) throw notFound('User');
    if (owner.id === caller.id) return owner;
    if (!isUserAdmin(caller)) throw forbidden("Only user admins can manage other users' tokens.");
    if (owner.role === 'super_admin' && caller.role !== 'super_admin')
      throw forbidden("Only a super_admin can manage a super_admin's tokens.");
    return owner;
  }
}
