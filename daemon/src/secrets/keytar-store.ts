import keytar from 'keytar';
import { SecretStoreUnavailableError, type KeychainHealth, type SecretStore } from './secret-store.js';

const platformName: Record<string, string> = {
  darwin: 'macOS Keychain',
  win32: 'Windows Credential Vault',
  linux: 'Secret Service',
};

/** The account a health check writes and removes again. */
const PROBE_ACCOUNT = 'gatehouse-probe';

/** The OS keychain through keytar: items are (service, account) → secret. */
export class KeytarSecretStore implements SecretStore {
  readonly backend = 'keychain' as const;
  readonly description: string;

  constructor(private readonly service: string) {
    this.description = `OS keychain (${platformName[process.platform] ?? process.platform}), service "${service}"`;
  }

  /**
   * A locked Secret Service collection answers every read with nothing, as if the item were
   * missing; only a write tells locked apart. So health is a write (and its removal).
   */
  async health(): Promise<KeychainHealth> {
    try {
      await this.set(PROBE_ACCOUNT, 'probe');
      await this.call(() => keytar.deletePassword(this.service, PROBE_ACCOUNT));
      return { state: 'ok' };
    } catch (error) {
      const { problem, reason } = error as SecretStoreUnavailableError;
      return { state: problem, reason };
    }
  }

  async get(account: string): Promise<string | null> {
    const secret = await this.call(() => keytar.getPassword(this.service, account));
    // A miss may be a locked keychain: say so rather than call the secret missing.
    if (secret === null) await this.assertUsable();
    return secret;
  }

  async set(account: string, secret: string): Promise<void> {
    await this.call(() => keytar.setPassword(this.service, account, secret));
  }

  async delete(account: string): Promise<boolean> {
    const existed = await this.call(() => keytar.deletePassword(this.service, account));
    if (!existed) await this.assertUsable();
    return existed;
  }

  /** libsecret ends the process when it lists a locked collection, so the list waits for a usable one. */
  async list(): Promise<Map<string, string>> {
    await this.assertUsable();
    const items = await this.call(() => keytar.findCredentials(this.service));
    return new Map(items.map((item) => [item.account, item.password]));
  }

  private async assertUsable(): Promise<void> {
    const health = await this.health();
    if (health.state !== 'ok') throw new SecretStoreUnavailableError(health.state, health.reason);
  }

  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      // keytar's messages name the D-Bus/keychain failure, never the secret.
      const reason = error instanceof Error ? error.message : String(error);
      throw new SecretStoreUnavailableError(/locked/i.test(reason) ? 'locked' : 'unavailable', reason);
    }
  }
}
