import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { accounts, type SecretStore } from '../../secrets/secret-store.js';
import type { Database } from '../../storage/database.js';

/** Held by the replica that loads (or makes) the keys. */
const OAUTH_KEYS_LOCK = 'gatehouse.oauth-keys';

/** What the authorization server signs with and seals its cookies with, all from the keychain. */
export interface OAuthKeys {
  /** The private signing key (EdDSA), with its `kid`; its public half is published at the JWKS endpoint. */
  signingKey: JWK;
  cookieKeys: string[];
}

interface StoredKeys {
  signing_key: JWK;
  cookie_key: string;
}

/**
 * Loads the authorization server's keys from the keychain (`oauth-keys`), making them on first
 * use. Like the daemon's own signing key they never touch the database; if the keychain lost
 * them, new ones are made and outstanding access tokens stop verifying (refresh tokens, which
 * are database records, still work).
 */
export function loadOAuthKeys(db: Database, secrets: SecretStore): Promise<OAuthKeys> {
  // Replicas that build their authorization servers together take turns: each would otherwise
  // make keys of its own, and the last to write would leave the others' tokens unverifiable.
  return db.exclusively(OAUTH_KEYS_LOCK, () => loadOrMake(secrets));
}

async function loadOrMake(secrets: SecretStore): Promise<OAuthKeys> {
  const stored = await secrets.get(accounts.oauthKeys);
  if (stored) {
    const keys = JSON.parse(stored) as StoredKeys;
    return { signingKey: keys.signing_key, cookieKeys: [keys.cookie_key] };
  }
  const { privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'EdDSA', use: 'sig' };
  const cookieKey = randomBytes(32).toString('base64url');
  await secrets.set(accounts.oauthKeys, JSON.stringify({ signing_key: signingKey, cookie_key: cookieKey }));
  return { signingKey, cookieKeys: [cookieKey] };
}
