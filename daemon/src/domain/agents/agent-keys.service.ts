import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import {
  credentialKinds,
  parseCredential,
  PREFIX_LENGTH,
  type AgentKey,
  type CreateKeyRequest,
  type IssuedAgentKey,
  type KeychainLocation,
  type RotateKeyRequest,
} from '@gatehouse/shared';
import { conflict, notFound, ProblemError } from '../../errors.js';
import { accounts, type SecretStore } from '../../secrets/secret-store.js';
import type { SecretWrites } from '../../secrets/secret-writes.js';
import { AgentEntity, AgentKeyEntity, type AgentKeyRow, type AgentRow } from '../../storage/agent-entities.js';
import type { Database } from '../../storage/database.js';
import type { ProjectRow } from '../../storage/entities.js';
import { CredentialOwners, type KeyWithOwner } from '../../storage/credential-owners.js';
import { ReadCache } from '../../storage/read-cache.js';
import { AgentUserEntity } from '../../storage/workflow-entities.js';
import type { Actor } from '../actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import { digestMatches, hashesMatch, issueCredential, sha256Hex } from '../credentials.js';
import { writeWithSecrets } from '../secret-transaction.js';

const DAY_MS = 86_400_000;
const DEFAULT_EXPIRY_DAYS = 30;

/** A key works until it is revoked (a future `revoked_at` is a rotation's grace period) or expires. */
export function isKeyActive(key: AgentKeyRow, now = new Date().toISOString()): boolean {
  return !(key.revoked_at && key.revoked_at <= now) && !(key.expires_at && key.expires_at <= now);
}

export const toAgentKey = (row: AgentKeyRow): AgentKey => ({
  id: row.id,
  agent_id: row.agent_id,
  label: row.label,
  prefix: row.prefix,
  last_four: row.last_four,
  scopes: row.scopes,
  created_at: row.created_at,
  expires_at: row.expires_at,
  last_used_at: row.last_used_at,
  revoked_at: row.revoked_at,
  replaced_by: row.replaced_by,
  active: isKeyActive(row),
  in_keychain: row.in_keychain,
});

/** The agent a key belongs to, with the project slug its keychain alias is named by. */
export interface KeyOwner {
  agent: AgentRow;
  projectSlug: string;
}

export type KeyCheck =
  | { ok: true; key: AgentKeyRow; agent: AgentRow; project: ProjectRow }
  | { ok: false; reason: string; prefix: string | null; agentId: string | null; projectId: string | null };

/**
 * The scopes a credential grants now: its own (empty = all of the agent's), within the agent's
 * current scopes — narrowing an agent narrows every key and session it already has.
 */
export const grantedScopes = (credentialScopes: string[], agent: AgentRow): string[] =>
  credentialScopes.length === 0 ? agent.scopes : credentialScopes.filter((scope) => agent.scopes.includes(scope));

/** What every request with a key compares against, read once from its cached (frozen) row. */
interface KeyState {
  /** The stored sha-256, decoded. */
  digest: Buffer;
  /** When it was revoked or expires, in ms since the epoch; Infinity for never. */
  revokedAt: number;
  expiresAt: number;
}
const keyStates = new WeakMap<AgentKeyRow, KeyState>();
/** What an agent key starts with, before its prefix. */
const AGENT_KEY_MARK = `${credentialKinds.agent}_`;
function keyState(key: AgentKeyRow): KeyState {
  let state = keyStates.get(key);
  if (!state) {
    const at = (iso: string | null) => (iso ? Date.parse(iso) : Infinity);
    state = {
      digest: Buffer.from(key.secret_hash, 'hex'),
      revokedAt: at(key.revoked_at),
      expiresAt: at(key.expires_at),
    };
    keyStates.set(key, state);
  }
  return state;
}

/**
 * A presented key against its looked-up row: sha-256 compared in constant time, then the key's
 * and the agent's state, expiry against the clock of this request. The row's digest and times
 * are decoded once per cached row: decoding and formatting them was half of every check.
 */
function keyVerdict(plaintext: string, prefix: string, found: KeyWithOwner | null): KeyCheck {
  const state = found && keyState(found.key);
  if (!found || !state || !digestMatches(state.digest, plaintext))
    return { ok: false, reason: 'unknown_key', prefix, agentId: null, projectId: null };
  const { key, agent, project } = found;
  const now = Date.now();
  if (state.revokedAt <= now) return keyRefused(prefix, found, key.replaced_by ? 'rotated' : 'revoked');
  if (state.expiresAt <= now) return keyRefused(prefix, found, 'expired');
  if (!agent || !project) return keyRefused(prefix, found, 'unknown_agent');
  if (agent.status !== 'active') return keyRefused(prefix, found, `agent_${agent.status}`);
  return { ok: true, key, agent, project };
}

/** A known key refused: audited in its agent's project, where its admins can see it. */
const keyRefused = (prefix: string, { key, agent }: KeyWithOwner, reason: string): KeyCheck => ({
  ok: false,
  reason,
  prefix,
  agentId: key.agent_id,
  projectId: agent?.project_id ?? null,
});

/**
 * Agent API keys: stored as sha-256 with their prefix and last four, the plaintext shown once and
 * kept in the OS keychain (`agent-key:<key_id>`, and `agent:<project>/<agent>` for the newest).
 */
export class AgentKeysService {
  private readonly owners: CredentialOwners;
  /** Key prefix → its key, agent and project, or none (so a flood of unknown keys costs no queries either). */
  private readonly byPrefix: ReadCache<KeyWithOwner | null>;

  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly secrets: SecretStore,
    private readonly keychainService: string,
  ) {
    this.owners = new CredentialOwners(db.source);
    this.byPrefix = new ReadCache(db);
  }

  async list(agent: AgentRow): Promise<AgentKey[]> {
    const rows = await this.db.manager.find(AgentKeyEntity, {
      where: { agent_id: agent.id },
      order: { created_at: 'DESC' },
    });
    return rows.map(toAgentKey);
  }

  /** The agent of a key, if both are in the project (OTAS names a key without its agent). */
  async agentOfKey(projectId: string, keyId: string): Promise<AgentRow> {
    const key = await this.db.manager.findOneBy(AgentKeyEntity, { id: keyId });
    const agent = key && (await this.db.manager.findOneBy(AgentEntity, { id: key.agent_id, project_id: projectId }));
    if (!agent) throw notFound('Key');
    return agent;
  }

  create(owner: KeyOwner, options: CreateKeyRequest, actor: Actor): Promise<IssuedAgentKey> {
    return writeWithSecrets(this.db, this.secrets, (tx, secrets) => this.issue(tx, secrets, owner, options, actor));
  }

  /**
   * A new key that replaces every active key of the agent (OTAS's key renewal): the new key and the
   * revocations are one write, so a failure half-way leaves the earlier keys working and no new one.
   */
  async replaceActive(owner: KeyOwner, options: CreateKeyRequest, actor: Actor): Promise<IssuedAgentKey> {
    const replaced: AgentKeyRow[] = [];
    const issued = await writeWithSecrets(this.db, this.secrets, async (tx, secrets) => {
      const now = new Date().toISOString();
      const earlier = (await tx.findBy(AgentKeyEntity, { agent_id: owner.agent.id })).filter((key) =>
        isKeyActive(key, now),
      );
      const next = await this.issue(tx, secrets, owner, options, actor);
      for (const key of earlier) {
        await tx.update(AgentKeyEntity, { id: key.id }, { revoked_at: now });
        await this.audit.append(tx, {
          event_type: 'key.revoked',
          actor,
          agent_id: owner.agent.id,
          project_id: owner.agent.project_id,
          target: `key:${key.prefix}`,
          metadata: { key_id: key.id, replaced_by: next.id },
        });
        replaced.push({ ...key, revoked_at: now });
      }
      return next;
    });
    // The alias already names the new key; only the replaced keys' own entries remain to go.
    for (const key of replaced) await this.secrets.delete(accounts.agentKey(key.id)).catch(() => false);
    return issued;
  }

  /** Where a key's own keychain entry is (`agent-key:<key_id>`). */
  keychainLocation(keyId: string): KeychainLocation {
    return { service: this.keychainService, account: accounts.agentKey(keyId) };
  }

  /**
   * Issues a key inside an open write: the row, then the keychain entries (a keychain failure
   * throws 503 and the caller's transaction rolls the row back). `holder` says whose key it is:
   * the agent's own key becomes its alias `agent:<project>/<agent>`, an agent user's key lives
   * only under its own account, so the alias never hands out a key that is someone else's.
   */
  async issue(
    tx: EntityManager,
    secrets: SecretWrites,
    owner: KeyOwner,
    options: CreateKeyRequest,
    actor: Actor,
    holder: 'agent' | 'agent_user' = 'agent',
  ): Promise<IssuedAgentKey> {
    const { agent } = owner;
    if (agent.status === 'revoked') throw conflict(`Agent "${agent.name}" is revoked for good; it gets no new keys.`);
    const scopes = options.scopes ?? [];
    const outside = scopes.filter((scope) => !agent.scopes.includes(scope));
    if (outside.length > 0) {
      throw new ProblemError(
        'validation_failed',
        `Key scopes must be a subset of the agent's scopes; not allowed: ${outside.join(', ')}.`,
        {
          errors: [{ location: 'body.scopes', message: `not scopes of the agent: ${outside.join(', ')}` }],
        },
      );
    }
    const credential = issueCredential('agent');
    const now = new Date();
    const days = options.expires_in_days ?? DEFAULT_EXPIRY_DAYS;
    const inKeychain = options.store_in_keychain ?? true;
    const row: AgentKeyRow = {
      id: randomUUID(),
      agent_id: agent.id,
      label: options.label?.trim() || null,
      prefix: credential.prefix,
      secret_hash: credential.hash,
      last_four: credential.lastFour,
      scopes,
      created_at: now.toISOString(),
      expires_at: days === 0 ? null : new Date(now.getTime() + days * DAY_MS).toISOString(),
      last_used_at: null,
      revoked_at: null,
      replaced_by: null,
      in_keychain: inKeychain,
    };
    await tx.insert(AgentKeyEntity, row);
    await this.audit.append(tx, {
      event_type: 'key.created',
      actor,
      agent_id: agent.id,
      project_id: agent.project_id,
      target: `key:${row.prefix}`,
      metadata: { key_id: row.id, agent: agent.name, expires_at: row.expires_at, in_keychain: inKeychain },
    });
    let keychain: IssuedAgentKey['keychain'] = null;
    if (inKeychain) {
      await secrets.set(accounts.agentKey(row.id), credential.plaintext);
      if (holder === 'agent') {
        const alias = accounts.agentAlias(owner.projectSlug, agent.name);
        await secrets.set(alias, credential.plaintext);
        keychain = { service: this.keychainService, account: alias };
      } else {
        keychain = this.keychainLocation(row.id);
      }
    }
    return { ...toAgentKey(row), api_key: credential.plaintext, keychain };
  }

  async rotate(owner: KeyOwner, keyId: string, options: RotateKeyRequest, actor: Actor): Promise<IssuedAgentKey> {
    const issued = await writeWithSecrets(this.db, this.secrets, async (tx, secrets) => {
      const old = await this.findKey(tx, owner.agent, keyId);
      const now = new Date();
      if (!isKeyActive(old, now.toISOString()) || old.replaced_by) {
        throw conflict('Only an active key that was not rotated already can be rotated; create a new key instead.');
      }
      // The new key grants what the old one grants now: its scopes within the agent's current ones.
      const scopes = old.scopes.filter((scope) => owner.agent.scopes.includes(scope));
      if (old.scopes.length > 0 && scopes.length === 0)
        throw conflict("This key grants none of the agent's current scopes any more; create a new key instead.");
      const holder = (await tx.existsBy(AgentUserEntity, { key_id: old.id })) ? 'agent_user' : 'agent';
      const next = await this.issue(
        tx,
        secrets,
        owner,
        {
          label: options.label ?? old.label ?? undefined,
          expires_in_days: old.expires_at
            ? Math.max(1, Math.round((Date.parse(old.expires_at) - Date.parse(old.created_at)) / DAY_MS))
            : 0,
          scopes,
          store_in_keychain: old.in_keychain,
        },
        actor,
        holder,
      );
      const stopsAt = new Date(now.getTime() + (options.grace_seconds ?? 0) * 1000).toISOString();
      await tx.update(AgentKeyEntity, { id: old.id }, { revoked_at: stopsAt, replaced_by: next.id });
      // An agent user's key stays its key through rotation.
      await tx.update(AgentUserEntity, { key_id: old.id }, { key_id: next.id });
      await this.audit.append(tx, {
        event_type: 'key.rotated',
        actor,
        agent_id: owner.agent.id,
        project_id: owner.agent.project_id,
        target: `key:${old.prefix}`,
        metadata: { key_id: old.id, replaced_by: next.id, old_key_stops_at: stopsAt },
      });
      return next;
    });
    // The old key's own entry goes now; agents follow the alias, which already names the new key.
    await this.secrets.delete(accounts.agentKey(keyId)).catch(() => false);
    return issued;
  }

  async revoke(owner: KeyOwner, keyId: string, actor: Actor): Promise<AgentKey> {
    const revoked = await this.db.write(async (tx) => {
      const key = await this.findKey(tx, owner.agent, keyId);
      const now = new Date().toISOString();
      if (key.revoked_at && key.revoked_at <= now) return key;
      await tx.update(AgentKeyEntity, { id: key.id }, { revoked_at: now });
      await this.audit.append(tx, {
        event_type: 'key.revoked',
        actor,
        agent_id: owner.agent.id,
        project_id: owner.agent.project_id,
        target: `key:${key.prefix}`,
        metadata: { key_id: key.id },
      });
      return { ...key, revoked_at: now };
    });
    await this.forgetKeySecret(owner, revoked);
    return toAgentKey(revoked);
  }

  /** Removes every keychain entry of an agent's keys (the agent is being deleted or renamed away). */
  async forgetAll(owner: KeyOwner, keys: AgentKeyRow[]): Promise<void> {
    for (const key of keys) await this.secrets.delete(accounts.agentKey(key.id)).catch(() => false);
    await this.secrets.delete(accounts.agentAlias(owner.projectSlug, owner.agent.name)).catch(() => false);
  }

  /**
   * Checks a presented key: lookup by prefix (cached while the database is unchanged), sha-256
   * compared in constant time, then the key's and the agent's state, expiry against the clock of
   * this request. No write happens here (usage is recorded in batches by the caller).
   */
  async check(plaintext: string): Promise<KeyCheck> {
    const parsed = parseCredential(plaintext);
    if (parsed?.kind !== 'agent')
      return { ok: false, reason: 'malformed', prefix: null, agentId: null, projectId: null };
    const found = await this.byPrefix.get(parsed.prefix, () =>
      this.owners.keyWithOwner(this.db.manager, parsed.prefix),
    );
    return keyVerdict(plaintext, parsed.prefix, found);
  }

  /**
   * `check`'s answer without a promise, when the key's lookup is cached (every request of a key
   * in use but the first after a write); `undefined` when only `check` can tell.
   */
  checkKnown(plaintext: string): KeyCheck | undefined {
    // Not parsed: only a key whose digest matches is accepted here, and that is the stored key
    // itself, well-formed when issued. Anything else is left to `check`, which parses it.
    if (!plaintext.startsWith(AGENT_KEY_MARK)) return undefined;
    const prefix = plaintext.slice(AGENT_KEY_MARK.length, AGENT_KEY_MARK.length + PREFIX_LENGTH);
    const known = this.byPrefix.known(prefix);
    return known && keyVerdict(plaintext, prefix, known.value);
  }

  private async findKey(tx: EntityManager, agent: AgentRow, keyId: string): Promise<AgentKeyRow> {
    const key = await tx.findOneBy(AgentKeyEntity, { id: keyId, agent_id: agent.id });
    if (!key) throw notFound('Key');
    return key;
  }

  /** The agent's own active keys kept in the keychain, newest first: agent users' keys are theirs, not the agent's. */
  async agentOwnKeys(agentId: string): Promise<AgentKeyRow[]> {
    const [keys, agentUsers] = await Promise.all([
      this.db.manager.find(AgentKeyEntity, {
        where: { agent_id: agentId, in_keychain: true },
        order: { created_at: 'DESC' },
      }),
      this.db.manager.find(AgentUserEntity, { where: { agent_id: agentId }, select: { key_id: true } }),
    ]);
    const agentUserKeys = new Set(agentUsers.map((link) => link.key_id));
    return keys.filter((key) => isKeyActive(key) && !agentUserKeys.has(key.id));
  }

  /** Drops a dead key's entry; if the alias held it, the alias moves to the newest live key or goes. */
  async forgetKeySecret(owner: KeyOwner, key: AgentKeyRow): Promise<void> {
    if (!key.in_keychain) return;
    const alias = accounts.agentAlias(owner.projectSlug, owner.agent.name);
    try {
      await this.secrets.delete(accounts.agentKey(key.id));
      const current = await this.secrets.get(alias);
      if (current === null || !hashesMatch(key.secret_hash, sha256Hex(current))) return;
      const candidates = await this.agentOwnKeys(owner.agent.id);
      for (const candidate of candidates) {
        const secret = await this.secrets.get(accounts.agentKey(candidate.id));
        if (secret) return await this.secrets.set(alias, secret);
      }
      await this.secrets.delete(alias);
    } catch {
      // The key is already refused by the database; a leftover keychain entry is stale, not a way in.
    }
  }
}
