import type { SecretStore } from './secret-store.js';

/**
 * Keychain writes that belong to a database transaction. If the transaction fails after some
 * of them landed, `undo` puts every touched account back as it was (deleted if it was new),
 * so a failed create leaves neither a row nor a secret behind.
 */
export class SecretWrites {
  private readonly previous = new Map<string, string | null>();

  constructor(private readonly store: SecretStore) {}

  async set(account: string, secret: string): Promise<void> {
    if (!this.previous.has(account)) this.previous.set(account, await this.store.get(account));
    await this.store.set(account, secret);
  }

  async undo(): Promise<void> {
    for (const [account, value] of [...this.previous].reverse()) {
      await (value === null ? this.store.delete(account) : this.store.set(account, value)).catch(() => undefined);
    }
    this.previous.clear();
  }
}
