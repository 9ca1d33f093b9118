import { createHash, createPublicKey } from 'node:crypto';
import {
  exportJWK,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  importPKCS8,
  importSPKI,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWTPayload,
} from 'jose';
import type { Jwks } from '@gatehouse/shared';
import type { Database } from '../../storage/database.js';
import { SigningKeyEntity } from '../../storage/entities.js';
import { frozenRow } from '../../storage/read-cache.js';
import { accounts, type SecretStore } from '../../secrets/secret-store.js';

export const ISSUER = 'gatehouse';

/** Held by the replica that loads (or makes) the signing key. */
const SIGNING_KEY_LOCK = 'gatehouse.signing-key';

/** Verified tokens remembered: an agent sends the same one on every request for up to an hour. */
const VERIFIED_CAPACITY = 10_000;

interface ActiveKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: Jwks['keys'][number];
}

/**
 * Signs and verifies the daemon's EdDSA JWTs. The private key lives in the keychain
 * (`daemon-signing-key`); the database keeps its id and public half for `/.well-known/jwks.json`.
 * If the keychain lost the private key, a new one is made: outstanding access tokens (15 min)
 * stop verifying, sessions themselves (refresh tokens) are unaffected.
 */
export class TokenSigner {
  /** Token text → its claims: the signature of the same bytes by the same key needs checking once. */
  private readonly verified = new Map<string, JWTPayload>();

  private constructor(private readonly key: ActiveKey) {}

  /**
   * The active key, made on first start. Replicas starting together on an empty database take
   * turns: each would otherwise make a key of its own, and the tokens of all but the last to
   * write would stop verifying anywhere.
   */
  static load(db: Database, secrets: SecretStore, onReplaced?: (reason: string) => void): Promise<TokenSigner> {
    return db.exclusively(SIGNING_KEY_LOCK, () => TokenSigner.loadOrMake(db, secrets, onReplaced));
  }

  private static async loadOrMake(
    db: Database,
    secrets: SecretStore,
    onReplaced?: (reason: string) => void,
  ): Promise<TokenSigner> {
    const row = await db.manager.findOne(SigningKeyEntity, {
      where: { retired_at: null as unknown as undefined },
      order: { created_at: 'DESC' },
    });
    const privatePem = row ? await secrets.get(accounts.signingKey) : null;
    // The two halves must belong together: another data directory sharing this keychain service
    // would otherwise leave a key that signs tokens nothing here can verify.
    const matches =
      privatePem !== null &&
      row !== null &&
      createPublicKey(privatePem).export({ type: 'spki', format: 'pem' }).toString().trim() === row.public_key.trim();
    if (row && privatePem && matches) {
      const privateKey = await importPKCS8(privatePem, 'EdDSA', { extractable: false });
      const publicKey = await importSPKI(row.public_key, 'EdDSA', { extractable: true });
      return new TokenSigner(await activeKey(row.kid, privateKey, publicKey));
    }
    if (row)
      onReplaced?.(
        privatePem
          ? 'the keychain held a signing key of another database (does another data directory use the same keychain service?)'
          : 'the signing key was missing from the keychain',
      );

    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const publicPem = await exportSPKI(pair.publicKey);
    const kid = createHash('sha256').update(publicPem).digest('base64url').slice(0, 16);
    const now = new Date().toISOString();
    // Keychain first: a key the database names must always be one we hold.
    await secrets.set(accounts.signingKey, await exportPKCS8(pair.privateKey));
    await db.write(async (tx) => {
      await tx.update(SigningKeyEntity, { retired_at: null as unknown as undefined }, { retired_at: now });
      await tx.insert(SigningKeyEntity, { kid, public_key: publicPem, created_at: now, retired_at: null });
    });
    return new TokenSigner(await activeKey(kid, pair.privateKey, pair.publicKey));
  }

  sign(claims: JWTPayload & { sub: string }, ttlSeconds: number): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: this.key.kid, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(this.key.privateKey);
  }

  /**
   * The verified claims, or `null` for a token that is malformed, forged or expired. The claims
   * are shared by every request with the same token: frozen.
   */
  /** `verify`'s answer without a promise, for a token verified before and not expired since. */
  verifyKnown(token: string): JWTPayload | undefined {
    const known = this.verified.get(token);
    return known && known.exp! * 1000 > Date.now() ? known : undefined;
  }

  async verify(token: string): Promise<JWTPayload | null> {
    const known = this.verified.get(token);
    if (known) {
      if (known.exp! * 1000 > Date.now()) return known;
      this.verified.delete(token);
      return null;
    }
    try {
      const { payload } = await jwtVerify(token, this.key.publicKey, { issuer: ISSUER, algorithms: ['EdDSA'] });
      if (payload.exp === undefined) return null; // every token this daemon signs expires
      if (this.verified.size >= VERIFIED_CAPACITY) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, frozenRow(payload));
      return payload;
    } catch {
      return null;
    }
  }

  jwks(): Jwks {
    return { keys: [this.key.jwk] };
  }
}

async function activeKey(kid: string, privateKey: CryptoKey, publicKey: CryptoKey): Promise<ActiveKey> {
  const { x } = await exportJWK(publicKey);
  return { kid, privateKey, publicKey, jwk: { kty: 'OKP', crv: 'Ed25519', x: x ?? '', kid, alg: 'EdDSA', use: 'sig' } };
}
