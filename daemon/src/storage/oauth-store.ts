import { createHash, timingSafeEqual } from 'node:crypto';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { EntityManager } from 'typeorm';
import type { Database } from './database.js';
import type { Dialect } from './dialect.js';

const hashOf = (id: string): string => createHash('sha256').update(id).digest('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** How a confidential client's secret is kept: its SHA-256, marked so a stored value is never taken for a secret. */
const storedSecretOf = (secret: string): string => `sha256:${hashOf(secret)}`;

/** Whether `presented` is the secret whose hash is `stored` (constant time). */
export function clientSecretMatches(stored: string | undefined, presented: string): boolean {
  if (!stored) return false;
  const expected = Buffer.from(stored);
  const actual = Buffer.from(storedSecretOf(presented));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

interface RecordRow {
  payload: string;
  consumed_at: number | null;
  expires_at: number | null;
}

/**
 * oidc-provider's storage adapter over `oauth_records`. The id of a code, access token, refresh
 * token or session is the very secret its holder presents, so only its SHA-256 is stored and the
 * payload is kept without it (`jti`): a copy of the database redeems nothing. A client's secret
 * (pre-registered or dynamically registered confidential clients) is kept as its hash too: the
 * client has it once, in the registration answer built before this store sees it.
 */
export function oauthAdapter(db: Database): new (model: string) => Adapter {
  return class OAuthRecords implements Adapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const { jti: _presented, ...kept } = payload;
      if (this.model === 'Client' && typeof kept.client_secret === 'string') {
        kept.client_secret = storedSecretOf(kept.client_secret);
      }
      // A grant is found again by its id (its codes and tokens name it); it redeems nothing by itself.
      const grantId = payload.grantId ?? (this.model === 'Grant' ? id : null);
      const expiresAt = expiresIn ? nowSeconds() + expiresIn : null;
      await db.write((tx) =>
        tx.query(
          `INSERT INTO oauth_records (model, id_hash, payload, grant_id, uid, expires_at, consumed_at)
           VALUES (?, ?, ?, ?, ?, ?, NULL)
           ON CONFLICT (model, id_hash) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
             uid = excluded.uid, expires_at = excluded.expires_at`,
          [this.model, hashOf(id), JSON.stringify(kept), grantId, payload.uid ?? null, expiresAt],
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

/** A grant an agent gave a client at consent, as the connected-clients list shows it. */
export interface AgentGrant {
  grantId: string;
  clientId: string;
  scopes: string[];
  iat: number;
  exp: number;
}

/** The unexpired grants whose account is `agentId`, newest first. */
export async function grantsOf(db: Database, agentId: string): Promise<AgentGrant[]> {
  const rows: { grant_id: string; payload: string }[] = await db.manager.query(
    `SELECT grant_id, payload FROM oauth_records
     WHERE model = 'Grant' AND ${db.dialect.jsonText('payload', 'accountId')} = ?
       AND (expires_at IS NULL OR expires_at > ?)
     ORDER BY ${db.dialect.jsonNumber('payload', 'iat')} DESC`,
    [agentId, nowSeconds()],
  );
  return rows.map(({ grant_id, payload }) => {
    const grant = JSON.parse(payload) as {
      clientId: string;
      iat: number;
      exp: number;
      resources?: Record<string, string>;
    };
    const scopes = Object.values(grant.resources ?? {}).flatMap((scope) => scope.split(' '));
    return { grantId: grant_id, clientId: grant.clientId, scopes, iat: grant.iat, exp: grant.exp };
  });
}

/** Which ways of registering a client the admin allows. */
export interface RegistrationPolicy {
  pre_registered_clients: boolean;
  dynamic_registration: boolean;
  client_id_metadata_documents: boolean;
}

const DEFAULT_POLICY: RegistrationPolicy = {
  pre_registered_clients: true,
  dynamic_registration: true,
  client_id_metadata_documents: true,
};
// The policy is one record of the authorization server's own table, under a model of its own.
const POLICY = { model: 'RegistrationPolicy', idHash: hashOf('current') };

export async function readRegistrationPolicy(db: Database): Promise<RegistrationPolicy> {
  const rows: { payload: string }[] = await db.manager.query(
    `SELECT payload FROM oauth_records WHERE model = ? AND id_hash = ?`,
    [POLICY.model, POLICY.idHash],
  );
  return rows[0]
    ? { ...DEFAULT_POLICY, ...(JSON.parse(rows[0].payload) as Partial<RegistrationPolicy>) }
    : DEFAULT_POLICY;
}

export async function writeRegistrationPolicy(tx: EntityManager, policy: RegistrationPolicy): Promise<void> {
  await tx.query(
    `INSERT INTO oauth_records (model, id_hash, payload) VALUES (?, ?, ?)
     ON CONFLICT (model, id_hash) DO UPDATE SET payload = excluded.payload`,
    [POLICY.model, POLICY.idHash, JSON.stringify(policy)],
  );
}

/** Deletes the records past their expiry (codes, tokens, sessions, interactions, grants). */
export async function purgeExpired(db: Database): Promise<void> {
  await db.write((tx) =>
    tx.query(`DELETE FROM oauth_records WHERE expires_at IS NOT NULL AND expires_at <= ?`, [nowSeconds()]),
  );
}

/** The client ids an admin gives out start so; oidc-provider makes up dynamically registered ones itself. */
export const PRE_REGISTERED_PREFIX = 'gatehouse-';

export const isPreRegistered = (clientId: string): boolean => clientId.startsWith(PRE_REGISTERED_PREFIX);

/** A pre-registered client's metadata, as oidc-provider keeps it. */
export interface PreRegisteredRecord {
  client_id: string;
  client_name: string;
  redirect_uris: string[];
  token_endpoint_auth_method: string;
  client_id_issued_at: number;
}

/**
 * The clients an admin registered, newest first. Issue times are in seconds (RFC 7591), so clients
 * registered within one second are then in name order: the same list on every request.
 */
export async function preRegisteredClients(db: Database): Promise<PreRegisteredRecord[]> {
  const clientId = db.dialect.jsonText('payload', 'client_id');
  const rows: { payload: string }[] = await db.manager.query(
    `SELECT payload FROM oauth_records
     WHERE model = 'Client' AND substr(${clientId}, 1, ?) = ?
     ORDER BY ${db.dialect.jsonNumber('payload', 'client_id_issued_at')} DESC,
       ${db.dialect.jsonText('payload', 'client_name')}, ${clientId}`,
    [PRE_REGISTERED_PREFIX.length, PRE_REGISTERED_PREFIX],
  );
  return rows.map(({ payload }) => JSON.parse(payload) as PreRegisteredRecord);
}

/** Deletes a client with every grant, code, token and session record issued to it; false if there was none. */
export async function deleteClient(dialect: Dialect, tx: EntityManager, clientId: string): Promise<boolean> {
  const found: unknown[] = await tx.query(`SELECT 1 FROM oauth_records WHERE model = 'Client' AND id_hash = ?`, [
    hashOf(clientId),
  ]);
  if (found.length === 0) return false;
  await tx.query(`DELETE FROM oauth_records WHERE model = 'Client' AND id_hash = ?`, [hashOf(clientId)]);
  await tx.query(
    `DELETE FROM oauth_records WHERE model <> 'Client' AND ${dialect.jsonText('payload', 'clientId')} = ?`,
    [clientId],
  );
  return true;
}
