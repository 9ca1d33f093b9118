import keytar from 'keytar';
import { SecretStoreUnavailableError, type SecretStore } from './secret-store.js';

const platformName: Record<string, string> = {
  darwin: 'macOS Keychain',
  win32: 'Windows Credential Vault',
  linux: 'Secret Service',
};

/** The OS keychain through keytar: items are (service, account) → secret. */
export class KeytarSecretStore implements SecretStore {
  readonly backend = 'keychain' as const;
  readonly description: string;

  constructor(private readonly service: string) {
    this.description = `OS keychain (${platformName[process.platform] ?? process.platform}), service "${service}"`;
  }

  /** Fails with a clear reason when no keychain is reachable (e.g. no D-Bus Secret Service). */
  async probe(): Promise<void> {
    await this.get('gatehouse-probe');
  }

  async get(account: string): Promise<string | null> {
    return this.call(() => keytar.getPassword(this.service, account));
  }

  async set(account: string, secret: string): Promise<void> {
    await this.call(() => keytar.setPassword(this.service, account, secret));
  }

  async delete(account: string): Promise<boolean> {
    return this.call(() => keytar.deletePassword(this.service, account));
  }

  async list(): Promise<string[]> {
    const items = await this.call(() => keytar.findCredentials(this.service));
    return items.map((item) => item.account);
  }

  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      // keytar's messages name the D-Bus/keychain failure, never the secret.
      throw new SecretStoreUnavailableError(error instanceof Error ? error.message : String(error));
    }
  }
}
