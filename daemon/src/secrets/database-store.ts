import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { StartupError } from '../errors.js';
import type { KeyEncryptionKey } from './key-encryption-key.js';
import { SecretStoreUnavailableError, type KeychainHealth, type SecretStore } from './secret-store.js';

/** A secret as the database keeps it (storage/sealed-secret-rows.ts): nothing here opens without the key-encryption key. */
export interface SealedSecret {
  account: string;
  kek_id: string;
  key_nonce: Buffer;
  key_tag: Buffer;
  wrapped_key: Buffer;
  nonce: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

export type WrappedDataKey = Pick<SealedSecret, 'kek_id' | 'key_nonce' | 'key_tag' | 'wrapped_key'>;

/** Where the sealed rows are kept; writes join the caller's database transaction when there is one. */
export interface SealedSecretTable {
  get(account: string): Promise<SealedSecret | null>;
  put(row: SealedSecret): Promise<void>;
  delete(account: string): Promise<boolean>;
  accounts(): Promise<string[]>;
  /** One row per key-encryption key id found in the table. */
  samplesByKey(): Promise<SealedSecret[]>;
  /** Re-wraps every row under `fromKekId` in one transaction; resolves to how many. */
  rewrap(fromKekId: string, rewrapKey: (row: SealedSecret) => WrappedDataKey): Promise<number>;
}

const CIPHER = 'aes-256-gcm';
const NONCE_BYTES = 12;

/*
 * The authenticated data binds each ciphertext to its account and each wrapped key to its account
 * and key id: a row's sealed bytes moved onto another account's row fail to open.
 */
const secretAad = (account: string) => Buffer.from(`gatehouse secret\0${account}`);
const dataKeyAad = (account: string, kekId: string) => Buffer.from(`gatehouse data key\0${account}\0${kekId}`);

/**
 * Secrets in the database, for servers with no desktop keychain and replicas sharing one database
 * (`--secret-store database`). Envelope encryption with AES-256-GCM: each secret is sealed under a
 * fresh random data key, and the data key is wrapped by the key-encryption key, which comes from
 * a file or the environment and is never stored. The database alone decrypts nothing.
 */
export class DatabaseSecretStore implements SecretStore {
  readonly backend = 'database' as const;
  readonly description: string;

  private constructor(
    private readonly table: SealedSecretTable,
    private readonly kek: KeyEncryptionKey,
    /** How many data keys the start re-wrapped from the previous key-encryption key. */
    readonly rewrapped: number,
  ) {
    this.description = `database (AES-256-GCM envelope encryption, key-encryption key ${kek.id} from ${kek.source})`;
  }

  /**
   * Checks that `kek` opens what the table holds and, given the `previous` key, re-wraps every data
   * key still under it (rotation): after that the previous key opens nothing. Any row under a key
   * neither of them is, or that fails to open, is a `StartupError` and nothing is changed.
   */
  static async open(
    table: SealedSecretTable,
    kek: KeyEncryptionKey,
    previous?: KeyEncryptionKey,
  ): Promise<DatabaseSecretStore> {
    const samples = await table.samplesByKey();
    const foreign = samples.filter((row) => row.kek_id !== kek.id && row.kek_id !== previous?.id);
    if (foreign.length > 0) {
      throw new StartupError(
        `The key-encryption key from ${kek.source} (id ${kek.id}) does not open the secrets in the database, ` +
          `which are wrapped under key id ${foreign.map((row) => row.kek_id).join(', ')}. Start with that key ` +
          '(or pass it with --previous-kek-file to rotate to the new one); nothing was changed.',
      );
    }
    for (const sample of samples) {
      const key = sample.kek_id === kek.id ? kek : previous!;
      try {
        unwrapDataKey(sample, key).fill(0);
      } catch {
        throw new StartupError(
          `The key-encryption key from ${key.source} (id ${key.id}) fails to open the secret "${sample.account}": ` +
            'the database was altered; nothing was changed.',
        );
      }
    }
    let rewrapped = 0;
    if (previous && samples.some((row) => row.kek_id === previous.id)) {
      rewrapped = await table.rewrap(previous.id, (row) => {
        const dataKey = unwrapDataKey(row, previous);
        try {
          return wrapDataKey(row.account, dataKey, kek);
        } finally {
          dataKey.fill(0);
        }
      });
    }
    return new DatabaseSecretStore(table, kek, rewrapped);
  }

  async get(account: string): Promise<string | null> {
    const row = await this.table.get(account);
    if (!row) return null;
    try {
      if (row.kek_id !== this.kek.id) throw new Error('wrapped under another key');
      const dataKey = unwrapDataKey(row, this.kek);
      try {
        const decipher = createDecipheriv(CIPHER, dataKey, row.nonce).setAAD(secretAad(account));
        decipher.setAuthTag(row.tag);
        return Buffer.concat([decipher.update(row.ciphertext), decipher.final()]).toString('utf8');
      } finally {
        dataKey.fill(0);
      }
    } catch {
      const detail = `The stored secret "${account}" does not open with this key-encryption key (altered, or sealed under another key).`;
      throw new SecretStoreUnavailableError('unavailable', detail, detail);
    }
  }

  async set(account: string, secret: string): Promise<void> {
    const dataKey = randomBytes(32);
    try {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv(CIPHER, dataKey, nonce).setAAD(secretAad(account));
      const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
      await this.table.put({
        account,
        ...wrapDataKey(account, dataKey, this.kek),
        nonce,
        tag: cipher.getAuthTag(),
        ciphertext,
      });
    } finally {
      dataKey.fill(0);
    }
  }

  delete(account: string): Promise<boolean> {
    return this.table.delete(account);
  }

  /** Every account with its secret (what start-up reconciliation walks). */
  async list(): Promise<Map<string, string>> {
    const entries = new Map<string, string>();
    for (const account of await this.table.accounts()) {
      const secret = await this.get(account);
      if (secret !== null) entries.set(account, secret);
    }
    return entries;
  }

  /** Opened by the key-encryption key at start, in the daemon's own database: usable while it runs. */
  async health(): Promise<KeychainHealth> {
    return { state: 'ok' };
  }
}

function wrapDataKey(account: string, dataKey: Buffer, kek: KeyEncryptionKey): WrappedDataKey {
  const key_nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(CIPHER, kek.key, key_nonce).setAAD(dataKeyAad(account, kek.id));
  const wrapped_key = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return { kek_id: kek.id, key_nonce, key_tag: cipher.getAuthTag(), wrapped_key };
}

/** The data key, or a throw when GCM authentication fails (wrong key, altered row). */
function unwrapDataKey(row: SealedSecret, kek: KeyEncryptionKey): Buffer {
  const decipher = createDecipheriv(CIPHER, kek.key, row.key_nonce).setAAD(dataKeyAad(row.account, row.kek_id));
  decipher.setAuthTag(row.key_tag);
  return Buffer.concat([decipher.update(row.wrapped_key), decipher.final()]);
}
