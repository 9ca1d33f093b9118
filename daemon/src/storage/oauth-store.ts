import { createHash } from 'node:crypto';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Database } from './database.js';

const hashOf = (id: string): string => createHash('sha256').update(id).digest('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);

interface RecordRow {
  payload: string;
  consumed_at: number | null;
  expires_at: number | null;
}

/**
 * oidc-provider's storage adapter over `oauth_records`. The id of a code, access token, refresh
 * token or session is the very secret its holder presents, so only its SHA-256 is stored and the
 * payload is kept without it (`jti`): a copy of the database redeems nothing.
 */
export function oauthAdapter(db: Database): new (model: string) => Adapter {
  return class OAuthRecords implements Adapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const { jti: _presented, ...kept } = payload;
      const expiresAt = expiresIn ? nowSeconds() + expiresIn : null;
      await db.write((tx) =>
        tx.query(
          `INSERT INTO oauth_records (model, id_hash, payload, grant_id, uid, expires_at, consumed_at)
           VALUES (?, ?, ?, ?, ?, ?, NULL)
           ON CONFLICT (model, id_hash) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
             uid = excluded.uid, expires_at = excluded.expires_at`,
          [this.model, hashOf(id), JSON.stringify(kept), payload.grantId ?? null, payload.uid ?? null, expiresAt],
        ),
      );
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const rows: RecordRow[] = await db.manager.query(
        `SELECT payload, consumed_at, expires_at FROM oauth_records WHERE model = ? AND id_hash = ?`,
        [this.model, hashOf(id)],
      );
      return present(rows[0], id);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const rows: (RecordRow & { id_hash: string })[] = await db.manager.query(
        `SELECT payload, consumed_at, expires_at FROM oauth_records WHERE model = ? AND uid = ?`,
        [this.model, uid],
      );
      // A session found by its uid is loaded without its id; oidc-provider then only reads it.
      return present(rows[0], undefined);
    }

    findByUserCode(): Promise<AdapterPayload | undefined> {
      // The device flow is off: there are no user codes.
      return Promise.resolve(undefined);
    }

    async consume(id: string): Promise<void> {
      await db.write((tx) =>
        tx.query(`UPDATE oauth_records SET consumed_at = ? WHERE model = ? AND id_hash = ?`, [
          nowSeconds(),
          this.model,
          hashOf(id),
        ]),
      );
    }

    async destroy(id: string): Promise<void> {
      await db.write((tx) =>
        tx.query(`DELETE FROM oauth_records WHERE model = ? AND id_hash = ?`, [this.model, hashOf(id)]),
      );
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db.write((tx) => tx.query(`DELETE FROM oauth_records WHERE grant_id = ?`, [grantId]));
    }
  };
}

function present(row: RecordRow | undefined, id: string | undefined): AdapterPayload | undefined {
  if (!row) return undefined;
  if (row.expires_at !== null && row.expires_at <= nowSeconds()) return undefined;
  const payload = JSON.parse(row.payload) as AdapterPayload;
  if (id !== undefined) payload.jti = id;
  if (row.consumed_at !== null) payload.consumed = row.consumed_at;
  return payload;
}
