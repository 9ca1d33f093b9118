import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { StartupError } from '../errors.js';
import { scrypt, type ScryptCost } from '../scrypt.js';
import { SerialQueue } from '../serial-queue.js';
import type { KeychainHealth, SecretStore } from './secret-store.js';

/** scrypt cost: ~100 ms and 32 MiB once at start-up; the derived key then stays in memory. */
const KDF = { N: 2 ** 15, r: 8, p: 1 } as const;

interface SealedFile {
  format: 'gatehouse-secrets';
  version: 1;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  iv: string;
  tag: string;
  data: string;
}

/**
 * Secrets in one AES-256-GCM sealed file, for machines with no OS keychain. The whole map is
 * encrypted (account names reveal agent names too); each write uses a fresh IV and replaces the
 * file atomically, so a crash never leaves it half-written. The key comes from scrypt over
 * `GATEHOUSE_PASSPHRASE`; a wrong passphrase fails GCM authentication and nothing is written.
 */
export class EncryptedFileSecretStore implements SecretStore {
  readonly backend = 'file' as const;
  readonly description: string;
  private readonly writes = new SerialQueue();

  private constructor(
    private readonly path: string,
    private readonly key: Buffer,
    private readonly salt: Buffer,
    private entries: Map<string, string>,
  ) {
    this.description = `encrypted file ${path} (AES-256-GCM, scrypt)`;
  }

  /** Opens (or creates) the file. Throws a `StartupError` on a wrong passphrase or a damaged file. */
  static async open(path: string, passphrase: string): Promise<EncryptedFileSecretStore> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const salt = randomBytes(16);
      const store = new EncryptedFileSecretStore(path, await deriveKey(passphrase, salt, KDF), salt, new Map());
      await store.persist();
      return store;
    }

    let sealed: SealedFile;
    try {
      sealed = JSON.parse(text) as SealedFile;
      if (sealed.format !== 'gatehouse-secrets' || sealed.version !== 1) throw new Error('unknown format');
    } catch {
      throw new StartupError(`The secrets file ${path} is not a Gatehouse secrets file; it was left untouched.`);
    }
    const salt = Buffer.from(sealed.kdf.salt, 'base64');
    const key = await deriveKey(passphrase, salt, sealed.kdf);
    let plaintext: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      plaintext = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new StartupError(`Wrong GATEHOUSE_PASSPHRASE for ${path} (or the file was altered); nothing was changed.`);
    }
    const entries = new Map(Object.entries(JSON.parse(plaintext) as Record<string, string>));
    return new EncryptedFileSecretStore(path, key, salt, entries);
  }

  async get(account: string): Promise<string | null> {
    return this.entries.get(account) ?? null;
  }

  async list(): Promise<Map<string, string>> {
    return new Map(this.entries);
  }

  /** Unlocked by the passphrase at start, for as long as the daemon runs. */
  async health(): Promise<KeychainHealth> {
    return { state: 'ok' };
  }

  async set(account: string, secret: string): Promise<void> {
    await this.update((entries) => entries.set(account, secret));
  }

  async delete(account: string): Promise<boolean> {
    let existed = false;
    await this.update((entries) => {
      existed = entries.delete(account);
    });
    return existed;
  }

  /** Applies a change to a copy, persists it, and only then makes it visible. */
  private update(change: (entries: Map<string, string>) => void): Promise<void> {
    return this.writes.run(async () => {
      const next = new Map(this.entries);
      change(next);
      await this.persist(next);
      this.entries = next;
    });
  }

  private async persist(entries = this.entries): Promise<void> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(Object.fromEntries(entries)), 'utf8'), cipher.final()]);
    const sealed: SealedFile = {
      format: 'gatehouse-secrets',
      version: 1,
      kdf: { name: 'scrypt', ...KDF, salt: this.salt.toString('base64') },
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
    const temporary = `${this.path}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(sealed), { mode: 0o600, flush: true });
    await rename(temporary, this.path);
  }
}

const deriveKey = (passphrase: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> =>
  scrypt(passphrase, salt, 32, cost);
