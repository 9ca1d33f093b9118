import { randomUUID } from 'node:crypto';
import { parseCredential } from '@gatehouse/shared';
import { notFound } from '../../errors.js';
import type { Database } from '../../storage/database.js';
import { ProjectEntity, SdkKeyEntity, type ProjectRow, type SdkKeyRow } from '../../storage/entities.js';
import type { Actor } from '../actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuthFailure } from '../auth/auth-failures.js';
import type { UsageRecorder } from '../auth/usage-recorder.js';
import { hashesMatch, issueCredential, sha256Hex } from '../credentials.js';

const DAY_MS = 86_400_000;

export const isSdkKeyActive = (key: SdkKeyRow, now = new Date().toISOString()): boolean =>
  !key.revoked_at && !(key.expires_at && key.expires_at <= now);

/** A presented SDK key's project, or why it is refused. */
export type SdkKeyCheck = { project: ProjectRow } | { refused: Omit<AuthFailure, 'actor'> };

/**
 * A project's backend SDK keys (OTAS's backend SDK signs in with one, `X-OTAS-SDK-KEY`): a key
 * names its project only. The plaintext is shown once; the database keeps its sha-256.
 */
export class SdkKeysService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly usage: UsageRecorder,
  ) {}

  list(project: ProjectRow): Promise<SdkKeyRow[]> {
    return this.db.manager.find(SdkKeyEntity, { where: { project_id: project.id }, order: { created_at: 'DESC' } });
  }

  async create(
    project: ProjectRow,
    validityDays: number,
    actor: Actor & { user: { id: string } },
  ): Promise<{ key: SdkKeyRow; plaintext: string }> {
    const credential = issueCredential('sdk');
    const now = new Date();
    const key: SdkKeyRow = {
      id: randomUUID(),
      project_id: project.id,
      name: null,
      prefix: credential.prefix,
      secret_hash: credential.hash,
      created_by: actor.user.id,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + validityDays * DAY_MS).toISOString(),
      last_used_at: null,
      revoked_at: null,
    };
    await this.db.write(async (tx) => {
      await tx.insert(SdkKeyEntity, key);
      await this.audit.append(tx, {
        event_type: 'sdk_key.created',
        actor,
        project_id: project.id,
        target: `sdk_key:${key.prefix}`,
        metadata: { key_id: key.id, expires_at: key.expires_at },
      });
    });
    return { key, plaintext: credential.plaintext };
  }

  /** Stops an active key of the project; any other key is not found (as OTAS answers). */
  async revoke(project: ProjectRow, keyId: string, actor: Actor): Promise<SdkKeyRow> {
    return this.db.write(async (tx) => {
      const key = await tx.findOneBy(SdkKeyEntity, { id: keyId, project_id: project.id });
      if (!key || !isSdkKeyActive(key)) throw notFound('SDK key');
      const revoked = { ...key, revoked_at: new Date().toISOString() };
      await tx.update(SdkKeyEntity, { id: key.id }, { revoked_at: revoked.revoked_at });
      await this.audit.append(tx, {
        event_type: 'sdk_key.revoked',
        actor,
        project_id: project.id,
        target: `sdk_key:${key.prefix}`,
        metadata: { key_id: key.id },
      });
      return revoked;
    });
  }

  /**
   * The project of a presented key, or why it is refused (for `AuthFailures`, which counts and
   * audits the refusal). An accepted key's use is recorded, and written with the next batch.
   */
  async authenticate(plaintext: string): Promise<SdkKeyCheck> {
    const parsed = parseCredential(plaintext);
    if (parsed?.kind !== 'sdk') return { refused: { reason: 'unknown_key', prefix: null } };
    const { prefix } = parsed;
    const key = await this.db.manager.findOneBy(SdkKeyEntity, { prefix });
    if (!key || !hashesMatch(key.secret_hash, sha256Hex(plaintext)))
      return { refused: { reason: 'unknown_key', prefix } };
    const refused = (reason: string) => ({ refused: { reason, prefix, projectId: key.project_id } });
    if (key.revoked_at) return refused('revoked');
    if (!isSdkKeyActive(key)) return refused('expired');
    const project = await this.db.manager.findOneBy(ProjectEntity, { id: key.project_id });
    if (!project) return refused('unknown_project');
    this.usage.sdkKeyUsed(key.id);
    return { project };
  }
}
